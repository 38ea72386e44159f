"""The services the services collector knows by name, and how it finds each one's processes.

Which of them a host must run follows its roles (the toolkit's role table, inventory/roles.py):
the deploy writes their names into the collector's configuration. A service is found by one of three marks: its systemd unit (the unit's cgroup, read from
``/proc/PID/cgroup``, so every process the unit started counts, workers included), its
process name, or a regular expression over its command line. The units are the ones the
deploy installs (deploy/app.py, deploy/database.py, deploy/backup.py, deploy/intrusion.py,
deploy/monitoring.py) or Debian's own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Label values of a service or a store: short names, never a path or anything a client chose.
LABEL_VALUE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


@dataclass(frozen=True)
class Service:
    """A service the host must run, and how its processes are found.

    + name: the ``service`` label value (lower case, digits, ``-`` and ``_``)
    + unit: a systemd unit name, or a glob of one (``postgresql@*-main.service``)
    + process: a process name as ``ps -o comm`` shows it (``sshd``)
    + cmdline: a regular expression searched in the command line joined by spaces

    Exactly one of unit, process and cmdline. Only a unit gives restarts and unit states.
    """

    name: str
    unit: str | None = None
    process: str | None = None
    cmdline: str | None = None

    def __post_init__(self):
        if not LABEL_VALUE.match(self.name):
            raise ValueError(f"service name {self.name!r}: use lower case letters, digits, '-' and '_' (label value)")
        marks = [mark for mark in (self.unit, self.process, self.cmdline) if mark]
        if len(marks) != 1:
            raise ValueError(f"service {self.name!r}: give exactly one of unit, process, cmdline")
        if self.cmdline:
            try:  # a bad expression fails at start-up, not at every scrape
                re.compile(self.cmdline)
            except re.error as error:
                raise ValueError(f"service {self.name!r}: cmdline {self.cmdline!r}: {error}") from None

    @classmethod
    def from_option(cls, option: str | dict) -> "Service":
        """A service from the exporter's configuration: a known service's name, or a dict of the fields."""
        if isinstance(option, str):
            if option not in KNOWN:
                raise ValueError(f"unknown service {option!r}: use one of {', '.join(sorted(KNOWN))} "
                                 "or a dict with name and unit, process or cmdline")
            return KNOWN[option]
        return cls(**option)


KNOWN = {service.name: service for service in (
    Service("sshd", unit="ssh.service"),  # Debian's name for the OpenSSH server unit
    Service("fail2ban", unit="fail2ban.service"),
    Service("nginx", unit="nginx.service"),
    # The portal release (deploy/templates/dichvucong.service.j2): gunicorn and its workers, the sync sender.
    Service("dichvucong-web", unit="dichvucong-web.service"),
    Service("dichvucong-outbox", unit="dichvucong-outbox.service"),
    # Debian runs each cluster as postgresql@VERSION-NAME; the glob spares typing the version twice.
    Service("postgresql", unit="postgresql@*-main.service"),
    # pgBackRest's TLS server (Debian's unit): the backup host's repository, a database host's
    # side of the copies when the inventory has a backup host.
    Service("pgbackrest", unit="pgbackrest.service"),
    # Monitoring (deploy/monitoring.py): Debian's units.
    Service("node-exporter", unit="prometheus-node-exporter.service"),
    Service("prometheus", unit="prometheus.service"),
    Service("alertmanager", unit="prometheus-alertmanager.service"),
)}

def services_named(options: list[str | dict]) -> list[Service]:
    """The services of the configuration's ``services`` option, each once, in its order: a
    known service's name, or a dict of a Service's fields (a vendor portal's units)."""
    chosen: dict[str, Service] = {}
    for service in (Service.from_option(option) for option in options):
        if service.name in chosen and chosen[service.name] != service:
            raise ValueError(f"service {service.name!r} given twice, differently")
        chosen.setdefault(service.name, service)
    return list(chosen.values())
