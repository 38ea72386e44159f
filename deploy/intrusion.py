"""Audit and intrusion: auditd rules where the kernel allows, fail2ban on the journal."""

from __future__ import annotations

from io import StringIO

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import apt, files, server, systemd

from deploy import defaults
from deploy.controls import applies, named

AUDIT_RULES = """# Written by portalops (deploy/intrusion.py): [ids-01]
-w /etc/passwd -p wa -k identity
-w /etc/group -p wa -k identity
-w /etc/shadow -p wa -k identity
-w /etc/gshadow -p wa -k identity
-w /etc/sudoers -p wa -k sudoers
-w /etc/sudoers.d/ -p wa -k sudoers
-w /usr/bin/sudo -p x -k sudo
-w /etc/ssh/sshd_config -p wa -k sshd
-w /etc/nftables.conf -p wa -k firewall
-a always,exit -F arch=b64 -S adjtimex,settimeofday,clock_settime -k time-change
-w /etc/localtime -p wa -k time-change
"""


def jail(data) -> str:
    """fail2ban's jail.local: SSH read from the journal, bans through nftables, admins never banned."""
    ignore = " ".join(["127.0.0.1/8", "::1", *data.admin_networks])
    return (f"# Written by portalops (deploy/intrusion.py): [ids-02]\n[DEFAULT]\nbackend = systemd\n"
            f"banaction = nftables-multiport\nbanaction_allports = nftables-allports\n"
            f"ignoreip = {ignore}\nmaxretry = {data.fail2ban_max_retry}\n"
            f"findtime = {data.fail2ban_find_seconds}\nbantime = {data.fail2ban_ban_seconds}\n\n"
            f"[sshd]\nenabled = true\nport = {data.ssh_port}\n")


@deploy("Audit and intrusion", data_defaults=defaults.ALL)
def intrusion():
    """auditd (ids-01) on hosts with their own kernel; fail2ban for sshd (ids-02) everywhere."""
    if applies("ids-01"):
        apt.packages(name=named("ids-01") + ": auditd", packages=["auditd"], no_recommends=True)
        rules = files.put(name=named("ids-01") + ": rules", dest="/etc/audit/rules.d/90-portalops.rules",
                          src=StringIO(AUDIT_RULES), mode="640")
        server.shell(name=named("ids-01") + ": rules loaded", commands=["augenrules --load"], _if=rules.did_change)
    apt.packages(name=named("ids-02") + ": fail2ban", packages=["fail2ban", "python3-systemd"], no_recommends=True)
    config = files.put(name=named("ids-02") + ": jail.local", dest="/etc/fail2ban/jail.local",
                       src=StringIO(jail(host.data)))
    systemd.service(name=named("ids-02") + ": running", service="fail2ban", running=True, enabled=True)
    systemd.service(name=named("ids-02") + ": new jails", service="fail2ban", restarted=True,
                    _if=config.did_change)
