"""Kernel hardening: network sysctls everywhere, kernel sysctls and module blacklist where a
kernel of our own exists (not in a container), core dumps off."""

from __future__ import annotations

from io import StringIO

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import files, server

from deploy import defaults
from deploy.controls import applies, named

SYSCTL_FILE = "/etc/sysctl.d/90-portalops.conf"


def sysctl_file(settings: dict) -> str:
    """The sysctl.d file for ``settings``."""
    lines = ["# Written by portalops (deploy/kernel.py): [os-01] [os-02]"]
    lines += [f"{key} = {value}" for key, value in sorted(settings.items())]
    return "\n".join(lines) + "\n"


@deploy("Kernel", data_defaults=defaults.ALL)
def kernel():
    """sysctls (os-01, os-02), module blacklist (os-03), no core dumps (os-04)."""
    settings = dict(host.data.sysctl_net) if applies("os-01") else {}
    if applies("os-02"):
        settings.update(host.data.sysctl_kernel)
    sysctls = files.put(name=named("os-01") + ": " + SYSCTL_FILE, dest=SYSCTL_FILE,
                        src=StringIO(sysctl_file(settings)))
    server.shell(name=named("os-01") + ": applied now", commands=[f"sysctl -q -p {SYSCTL_FILE}"],
                 _if=sysctls.did_change)
    if applies("os-03"):
        files.put(name=named("os-03"), dest="/etc/modprobe.d/portalops-blacklist.conf",
                  src=StringIO("# Written by portalops (deploy/kernel.py): [os-03]\n" + "".join(
                      f"install {module} /bin/false\nblacklist {module}\n" for module in host.data.blacklisted_modules)))
    files.put(name=named("os-04") + ": limits", dest="/etc/security/limits.d/90-portalops-core.conf",
              src=StringIO("# Written by portalops: [os-04] no core dumps\n* hard core 0\n"))
    # Shells that do not pass through PAM's limits (su -, scripts with a login shell) too.
    files.put(name=named("os-04") + ": login shells", dest="/etc/profile.d/portalops-core.sh", mode="644",
              src=StringIO("# Written by portalops: [os-04] no core dumps\nulimit -c 0\n"))
    files.directory(name=named("os-04") + ": systemd-coredump directory", path="/etc/systemd/coredump.conf.d")
    files.put(name=named("os-04") + ": systemd-coredump", dest="/etc/systemd/coredump.conf.d/90-portalops.conf",
              src=StringIO("[Coredump]\nStorage=none\nProcessSizeMax=0\n"))
