"""The services exporter (``portalops_services_*``): are the host's services up, what do they
use, have they restarted, is there room in its stores, and how old is its last good backup.

Everything is read at scrape time. Label values come from the configuration (service and
store names, repository numbers, stanzas = inventory host names) or from systemd's fixed
set of unit states: never a path, an address or anything a client sent.

Privileges on a host (the exporter runs as its own unprivileged user):

- CAP_DAC_READ_SEARCH: open file counts of other users' processes (listing ``/proc/PID/fd``),
  the upload store under /var/lib/dichvucong (750) and the backup stamps under
  /var/lib/pgbackrest (750). Without it those samples are missing, and a warning is logged.
- CAP_SYS_PTRACE (with the above): connection counts of other users' processes (reading
  what each descriptor is). Only read access is used; nothing is ever attached to.
- the system bus socket (``/run/dbus/system_bus_socket``) for ``systemctl show``;
  ``/proc`` mounted without ``hidepid`` and the unit without ``ProtectProc=invisible``
  or ``PrivateNetwork=`` (connections are matched in the host's TCP tables).
"""

from __future__ import annotations

import logging
import math
import time
from fnmatch import fnmatchcase
from typing import Iterable

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from portalops_exporters.services import processes, systemd
from portalops_exporters.services.backups import STANZA, last_successes
from portalops_exporters.services.catalogue import LABEL_VALUE, Service, services_named
from portalops_exporters.services.stores import space

NAME = "portalops_services"
# Where deploy/files/portalops-backup leaves its stamps (its PORTALOPS_BACKUP_STAMPS default).
BACKUP_STAMPS = "/var/lib/pgbackrest/portalops-last-success"

log = logging.getLogger("portalops_exporters")


class ServicesCollector:
    """``portalops_services_*`` for the services and stores a host must have (the deploy names
    them from the host's roles in the role table, inventory/roles.py).

    + services: the services to watch, each a known name (catalogue.KNOWN: ``"nginx"``,
      ``"pgbackrest"``...) or a dict with ``name`` and one of ``unit`` (a glob allowed),
      ``process``, ``cmdline`` (a vendor portal's units). Default: none.
    + stores: ``{label: path}`` of the places it must not run out of space in, e.g.
      ``{"uploads": "/var/lib/dichvucong/uploads"}``. Labels: lower case, digits, ``-`` and ``_``.
    + backup_stamps: the directory where portalops-backup records each good backup.
    + expected_backups: ``{"1": ["db-1"]}``, repository number to the stanzas it must hold:
      a stanza never recorded shows a last success at 0 (so its age alert fires).
    + systemctl: the command (argv) answering ``show``; e.g. ``["systemctl", "--host", ...]``.

    Example: ``ServicesCollector(services=["sshd", "postgresql", "pgbackrest"], expected_backups={"1": ["db-1"]})``
    """

    def __init__(self, services: list[str | dict] = (), stores: dict[str, str] | None = None,
                 backup_stamps: str = BACKUP_STAMPS, expected_backups: dict[str, list[str]] | None = None,
                 systemctl: list[str] = ("systemctl",)):
        self.services: list[Service] = services_named(list(services))
        self.stores = dict(stores or {})
        for label in self.stores:
            if not LABEL_VALUE.match(label):
                raise ValueError(f"store name {label!r}: use lower case letters, digits, '-' and '_' (label value)")
        self.backup_stamps = backup_stamps
        self.expected_backups = {str(repo): list(stanzas) for repo, stanzas in (expected_backups or {}).items()}
        for repo, stanzas in self.expected_backups.items():
            if not repo.isdigit() or not all(STANZA.match(stanza) for stanza in stanzas):
                raise ValueError(f"expected_backups {repo!r}: {stanzas!r}: a repository number and stanza names")
        self.systemctl = list(systemctl)
        self._warned: set[str] = set()

    def _warn(self, message: str) -> None:
        """Log a degraded read once, not at every scrape."""
        if message not in self._warned:
            self._warned.add(message)
            log.warning("%s: %s", NAME, message)

    def collect(self) -> Iterable[Metric]:
        """Yield the families, reading processes, systemd, file systems and stamps now."""
        yield from self._processes()
        yield from self._units()
        yield from self._stores()
        yield from self._backups(time.time())

    def _processes(self) -> Iterable[Metric]:
        usages = {name: processes.measure(found) for name, found in processes.find(self.services).items()}
        established = processes.established_sockets() if any(u.sockets for u in usages.values()) else set()
        label = ["service"]
        running = GaugeMetricFamily(f"{NAME}_running", "1 if at least one process of the service runs, else 0.",
                                    labels=label)
        count = GaugeMetricFamily(f"{NAME}_processes", "Processes of the service.", labels=label)
        started = GaugeMetricFamily(f"{NAME}_start_time_seconds",
                                    "Start of the service's oldest process, Unix time (a change is a restart).",
                                    labels=label)
        cpu = CounterMetricFamily(f"{NAME}_cpu_seconds", "CPU time of the service's running processes, by mode "
                                  "(ended processes drop out, which rate() takes as a reset).",
                                  labels=["service", "mode"])
        memory = GaugeMetricFamily(f"{NAME}_resident_memory_bytes",
                                   "Resident memory of the service's processes (shared pages counted per process).",
                                   labels=label)
        fds = GaugeMetricFamily(f"{NAME}_open_fds", "Open file descriptors of the service's processes.", labels=label)
        connections = GaugeMetricFamily(f"{NAME}_connections",
                                        "Established TCP connections of the service (a shared socket counts once).",
                                        labels=label)
        for name, usage in usages.items():
            running.add_metric([name], 1.0 if usage.processes else 0.0)
            count.add_metric([name], usage.processes)
            if usage.started is not None:
                started.add_metric([name], usage.started)
            cpu.add_metric([name, "user"], usage.cpu_user_seconds)
            cpu.add_metric([name, "system"], usage.cpu_system_seconds)
            memory.add_metric([name], usage.resident_bytes)
            if usage.open_fds is None:
                self._warn(f"{name}: open files unreadable (CAP_DAC_READ_SEARCH needed for other users' processes)")
            else:
                fds.add_metric([name], usage.open_fds)
            if usage.sockets is None:
                self._warn(f"{name}: connections unreadable (CAP_DAC_READ_SEARCH and CAP_SYS_PTRACE needed for "
                           "other users' processes)")
            else:
                connections.add_metric([name], len(usage.sockets & established))
        yield from (running, count, started, cpu, memory, fds, connections)

    def _units(self) -> Iterable[Metric]:
        with_units = [service for service in self.services if service.unit]
        if not with_units:
            return
        try:
            units = systemd.show(sorted({service.unit for service in with_units}), self.systemctl)
        except systemd.SystemdUnavailable as error:
            self._warn(f"no restarts or unit states: {error}")
            return
        restarts = CounterMetricFamily(f"{NAME}_restarts",
                                       "Automatic restarts of the service's units by systemd (NRestarts).",
                                       labels=["service"])
        states = GaugeMetricFamily(f"{NAME}_unit_state", "The service's units in each systemd state (ActiveState).",
                                   labels=["service", "state"])
        for service in with_units:
            mine = [unit for unit in units if fnmatchcase(unit.get("Id", ""), service.unit)]
            if not mine:
                continue  # a glob that matches no unit systemd has loaded
            restarts.add_metric([service.name], sum(_count(unit.get("NRestarts")) for unit in mine))
            for state in systemd.ACTIVE_STATES:
                states.add_metric([service.name, state], sum(unit.get("ActiveState") == state for unit in mine))
        yield from (restarts, states)

    def _stores(self) -> Iterable[Metric]:
        size = GaugeMetricFamily(f"{NAME}_store_size_bytes", "Size of the file system holding the store.",
                                 labels=["store"])
        avail = GaugeMetricFamily(f"{NAME}_store_avail_bytes",
                                  "Bytes of the store's file system available to unprivileged users.",
                                  labels=["store"])
        for name, path in self.stores.items():
            try:
                room = space(path)
            except OSError as error:
                self._warn(f"store {name} ({path}) unreadable: {error.strerror}")
                continue
            size.add_metric([name], room.size_bytes)
            avail.add_metric([name], room.avail_bytes)
        yield from (size, avail)

    def _backups(self, now: float) -> Iterable[Metric]:
        successes, problem = last_successes(self.backup_stamps, self.expected_backups)
        if problem:
            self._warn(problem)
        labels = ["repo", "stanza"]
        last = GaugeMetricFamily(f"{NAME}_backup_last_success_timestamp_seconds",
                                 "When the repository last took a good backup of the stanza, Unix time "
                                 "(0: none recorded).", labels=labels)
        age = GaugeMetricFamily(f"{NAME}_backup_age_seconds",
                                "Age of the stanza's last good backup in the repository (+Inf: none recorded).",
                                labels=labels)
        for (repo, stanza), when in sorted(successes.items()):
            last.add_metric([repo, stanza], when)
            age.add_metric([repo, stanza], now - when if when else math.inf)
        yield from (last, age)


def _count(value: str | None) -> int:
    """A systemd counter property; empty or odd (an older systemd) counts as 0."""
    try:
        return int(value or 0)
    except ValueError:
        return 0
