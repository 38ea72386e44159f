"""Accounting: what ran (process accounting, where the kernel allows it) and how busy the
host was (sysstat), kept on the host for an investigation."""

from __future__ import annotations

from pyinfra.api import deploy
from pyinfra.operations import apt, files, systemd

from deploy import defaults
from deploy.controls import applies, named


@deploy("Accounting", data_defaults=defaults.ALL)
def accounting():
    """Process accounting (ids-07) on hosts with their own kernel; sysstat (ids-08) everywhere."""
    if applies("ids-07"):
        apt.packages(name=named("ids-07") + ": acct", packages=["acct"], no_recommends=True)
        systemd.service(name=named("ids-07") + ": running", service="acct", running=True, enabled=True)

    apt.packages(name=named("ids-08") + ": sysstat", packages=["sysstat"], no_recommends=True)
    files.line(name=named("ids-08") + ": enabled", path="/etc/default/sysstat", line="^ENABLED=.*$",
               replace='ENABLED="true"')
    systemd.service(name=named("ids-08") + ": enabled at boot", service="sysstat", running=True, enabled=True)
    for timer in ("sysstat-collect.timer", "sysstat-summary.timer"):
        systemd.service(name=f"{named('ids-08')}: {timer}", service=timer, running=True, enabled=True)
