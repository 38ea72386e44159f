"""Integrity baselines and the audit's tool: Lynis (with its container profile), AIDE,
rkhunter and debsums. Run last, once the host holds everything it will run, so the
baselines AIDE and rkhunter take are of the finished host."""

from __future__ import annotations

from io import StringIO

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.facts.files import File
from pyinfra.operations import apt, files, server, systemd

from deploy import defaults
from deploy.controls import in_container, named
from deploy.operations import validated_file

LYNIS_PROFILE = "/etc/lynis/custom.prf"
AIDE_DATABASE = "/var/lib/aide/aide.db"
# Debian's own list (rkhunter.conf), repeated because DISABLE_TESTS replaces it.
RKHUNTER_DISABLED = ["suspscan", "hidden_ports", "hidden_procs", "deleted_files", "packet_cap_apps", "apps"]
# Kernel modules are the host's in a container: /proc/modules and /lib/modules are absent.
RKHUNTER_DISABLED_IN_CONTAINER = ["avail_modules", "loaded_modules"]


def lynis_profile(skips: dict[str, str]) -> str:
    """Lynis's custom profile: one skip-test line per test, its reason above it."""
    lines = ["# Written by portalops (deploy/integrity.py): [ids-03] tests that cannot apply",
             "# in a container; the list is lynis_container_skips in deploy/defaults.py."]
    for test, reason in sorted(skips.items()):
        lines += [f"# {reason}", f"skip-test={test}"]
    return "\n".join(lines) + "\n"


def rkhunter_conf(container: bool) -> str:
    """rkhunter.conf.local: no downloads, PostgreSQL's shared memory known, and no kernel
    module tests in a container."""
    disabled = RKHUNTER_DISABLED + (RKHUNTER_DISABLED_IN_CONTAINER if container else [])
    return ("# Written by portalops (deploy/integrity.py): [ids-05]\n"
            "# No mirror or web updates: hosts reach only the package cache.\n"
            "UPDATE_MIRRORS=0\nMIRRORS_MODE=1\n"
            "# Debian's quoted value fails rkhunter's own check (rkhunter -C).\nWEB_CMD=/bin/false\n"
            "# PostgreSQL's dynamic shared memory segments.\nALLOWDEVFILE=/dev/shm/PostgreSQL.*\n"
            f"DISABLE_TESTS={' '.join(disabled)}\n")


def shell_setting(name: str, path: str, key: str, value: str):
    """Set ``key="value"`` in a Debian /etc/default file (the line replaced, or added)."""
    return files.line(name=name, path=path, line=f"^#*[[:space:]]*{key}=.*$", replace=f'{key}="{value}"')


@deploy("Integrity", data_defaults=defaults.ALL)
def integrity():
    """Lynis and its container profile (ids-03), AIDE (ids-04), rkhunter (ids-05), debsums (ids-06)."""
    data = host.data
    apt.packages(name=named("ids-03"), packages=["lynis"], no_recommends=True)
    if in_container():
        files.put(name=named("ids-03") + ": container profile", dest=LYNIS_PROFILE, mode="644",
                  src=StringIO(lynis_profile(data.lynis_container_skips)))

    # aide-common holds Debian's rules, aideinit and the daily timer; it is only a
    # recommendation of aide.
    apt.packages(name=named("ids-04") + ": packages", packages=["aide", "aide-common"], no_recommends=True)
    validated_file(name=named("ids-04") + ": data left out", dest="/etc/aide/aide.conf.d/99_portalops",
                   content="# Written by portalops (deploy/integrity.py): [ids-04] data, not software\n"
                           + "".join(f"!{path}\n" for path in data.aide_excluded),
                   check="aide --config-check -c /etc/aide/aide.conf >/dev/null", in_place=True)
    if not host.get_fact(File, path=AIDE_DATABASE):
        server.shell(name=named("ids-04") + ": baseline", commands=["aideinit --yes --force >/dev/null"])
    systemd.service(name=named("ids-04") + ": daily check", service="dailyaidecheck.timer", running=True,
                    enabled=True)

    apt.packages(name=named("ids-05") + ": rkhunter", packages=["rkhunter"], no_recommends=True)
    validated_file(name=named("ids-05") + ": rkhunter.conf.local", dest="/etc/rkhunter.conf.local",
                   content=rkhunter_conf(in_container()), check="rkhunter -C", mode="640", in_place=True)
    # Daily scan from cron (base-13), warnings to the journal and /var/log/rkhunter.log (no
    # mail: hosts have no MTA); file properties refreshed after every apt run, so an
    # update is not reported as an intrusion.
    for key, value in (("CRON_DAILY_RUN", "true"), ("CRON_DB_UPDATE", "false"), ("APT_AUTOGEN", "true"),
                       ("REPORT_EMAIL", ""), ("NICE", "10")):
        shell_setting(f"{named('ids-05')}: {key}", "/etc/default/rkhunter", key, value)
    if not host.get_fact(File, path="/var/lib/rkhunter/db/rkhunter.dat"):
        server.shell(name=named("ids-05") + ": baseline", commands=["rkhunter --propupd --nocolors >/dev/null"])

    apt.packages(name=named("ids-06") + ": debsums", packages=["debsums"], no_recommends=True)
    files.line(name=named("ids-06") + ": schedule", path="/etc/default/debsums", line="^#*[[:space:]]*CRON_CHECK=.*$",
               replace=f"CRON_CHECK={data.debsums_schedule}")
