"""SSH hardening: keys only, no root, modern crypto, short sessions; validated before reload."""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import systemd

from deploy import defaults
from deploy.controls import named
from deploy.operations import validated_file
from deploy.templates import render


@deploy("SSH hardening", data_defaults=defaults.ALL)
def ssh():
    """Own /etc/ssh/sshd_config (ssh-01..04) and reload sshd only when it changed and passed ``sshd -t``."""
    config = validated_file(
        name=named("ssh-04") + ": sshd_config",
        content=render("sshd_config.j2", host.data),
        dest="/etc/ssh/sshd_config",
        check="sshd -t -f {path}",
        mode="600",
    )
    # A reload keeps established sessions, this deploy's own included.
    systemd.service(name="Reload sshd with the new configuration", service="ssh", running=True,
                    reloaded=True, _if=config.did_change)
