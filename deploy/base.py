"""The base every host gets: admins, hostname, time, journal, patching, no needless services."""

from __future__ import annotations

import shlex
from io import StringIO

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.facts.server import Users
from pyinfra.operations import apt, files, server, systemd

from deploy import defaults
from deploy.controls import applies, named
from deploy.facts import ExpiredAccounts
from deploy.operations import apt_refresh, validated_file
from deploy.templates import render


# Groups that make an account an admin, besides the SSH login group (ssh_login_group): sudo gives root.
ADMIN_GROUPS = ("sudo",)


def former_admins() -> list[tuple[str, str]]:
    """(name, home) of every account in the sudo or SSH login group that ``admins`` does not
    list: ``admins`` is the whole list. The deploy's own login is always listed (deploy/guards.py
    refuses the host otherwise), and root is never touched."""
    listed = {admin["name"] for admin in host.data.admins}
    groups = {*ADMIN_GROUPS, host.data.ssh_login_group}
    return sorted((name, user["home"]) for name, user in (host.get_fact(Users) or {}).items()
                  if name not in listed and name != "root" and groups & {user["group"], *user["groups"]})


def offboarded(name: str, home: str) -> None:
    """Take an admin's access away: the account locked and expired with no login shell, its
    authorized keys removed, out of the admin groups; its home kept for the record."""
    quoted = shlex.quote(name)
    server.shell(name=f"{named('base-01')}: {name} no longer an admin", commands=[
        f"usermod --lock --expiredate 1 --shell /usr/sbin/nologin {quoted}",
        *(f"gpasswd --delete {quoted} {shlex.quote(group)} >/dev/null 2>&1 || true"
          for group in (*ADMIN_GROUPS, host.data.ssh_login_group)),
        f"rm -f {shlex.quote(home)}/.ssh/authorized_keys {shlex.quote(home)}/.ssh/authorized_keys2",
        f"logger -t portalops -p authpriv.notice 'admin account {name} offboarded: not in the inventory admins'"])


@deploy("Base", data_defaults=defaults.ALL)
def base():
    """Admins, the whole list (base-01/02), hostname (base-03), time (base-04), journal (base-05), apt cache and
    unattended security updates (base-06/07), no needless network services (base-08), legal
    banner (base-12), cron for the scheduled checks (base-13)."""
    server.group(name=named("base-02") + ": login group", group=host.data.ssh_login_group)
    for admin in host.data.admins:
        # Exactly the keys the inventory lists: a key taken off an admin's list stops working.
        server.user(name=f"{named('base-01')}: {admin['name']}", user=admin["name"], shell="/bin/bash",
                    groups=["sudo", host.data.ssh_login_group], append=True, public_keys=admin["keys"],
                    delete_keys=True, create_home=True)
    # An admin listed again after leaving (or never meant to go) may log in again.
    for name in sorted(set(host.get_fact(ExpiredAccounts) or ()) & {admin["name"] for admin in host.data.admins}):
        server.shell(name=f"{named('base-01')}: {name} an admin again",
                     commands=[f"usermod --expiredate '' {shlex.quote(name)}"])
    for name, home in former_admins():
        offboarded(name, home)
    validated_file(name=named("base-01") + ": sudoers", content=render("sudoers.j2", host.data),
                   dest="/etc/sudoers.d/portalops-admins", check="visudo -cqf {path}", mode="440")
    server.hostname(name=named("base-03"), hostname=host.name)

    if applies("base-04"):
        apt.packages(name=named("base-04") + ": timesyncd", packages=["systemd-timesyncd"])
        timesync = files.put(name=named("base-04") + ": servers", dest="/etc/systemd/timesyncd.conf",
                             src=StringIO(render("timesyncd.conf.j2", host.data)))
        systemd.service(name=named("base-04") + ": running", service="systemd-timesyncd", running=True,
                        enabled=True)
        systemd.service(name=named("base-04") + ": new servers", service="systemd-timesyncd", restarted=True,
                        _if=timesync.did_change)

    files.directory(name=named("base-05") + ": journal directory", path="/var/log/journal", group="systemd-journal",
                    mode="2755")
    journal = files.put(name=named("base-05") + ": journald.conf", dest="/etc/systemd/journald.conf",
                        src=StringIO(render("journald.conf.j2", host.data)))
    systemd.service(name=named("base-05") + ": journald restarted", service="systemd-journald",
                    restarted=True, _if=journal.did_change)

    if host.data.apt_proxy:
        files.put(name=named("base-06"), dest="/etc/apt/apt.conf.d/01portalops-proxy",
                  src=StringIO(f'Acquire::http::Proxy "{host.data.apt_proxy}";\n'))
    apt_refresh(name=named("base-06") + ": package lists", cache_time=3600)
    if host.data.unattended_upgrades:
        apt.packages(name=named("base-07") + ": package", packages=["unattended-upgrades"], no_recommends=True)
        files.put(name=named("base-07") + ": daily", dest="/etc/apt/apt.conf.d/20auto-upgrades",
                  src=StringIO('APT::Periodic::Update-Package-Lists "1";\nAPT::Periodic::Unattended-Upgrade "1";\n'))
    apt.packages(name=named("base-08"), packages=host.data.unneeded_packages, present=False)

    for path in ("/etc/issue", "/etc/issue.net"):
        files.put(name=f"{named('base-12')}: {path}", dest=path, src=StringIO(host.data.login_banner), mode="644")
    # Debian's checks (debsums, rkhunter, acct's rotation) are cron jobs.
    apt.packages(name=named("base-13") + ": cron", packages=["cron"], no_recommends=True)
    systemd.service(name=named("base-13") + ": running", service="cron", running=True, enabled=True)

