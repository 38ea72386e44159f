"""Finding a service's processes and adding up what they use.

CPU time, resident memory and start time come from psutil, which reads files every user
may read (``/proc/PID/stat``, ``statm``). Open files and sockets come from
``/proc/PID/fd``, which another user's process only shows to a reader with
CAP_DAC_READ_SEARCH (to list it) and CAP_SYS_PTRACE (to see what each descriptor is):
without them those figures are unknown (None), never a misleading zero.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

import psutil

from portalops_exporters.services.catalogue import Service

# /proc/net/tcp's state column: 01 is ESTABLISHED (include/net/tcp_states.h).
TCP_ESTABLISHED = "01"
SOCKET_LINK = re.compile(r"^socket:\[(\d+)\]$")


def unit_of(cgroup: str) -> str | None:
    """The host's systemd service unit a process runs in, from the text of its ``/proc/PID/cgroup``.

    cgroup v2 has one line (``0::/system.slice/nginx.service``); the hybrid layout adds the
    v1 ``name=systemd`` line, where systemd keeps the same path. Only slices may lie above
    the unit, and the outermost unit counts: a unit's own sub-groups (``foo.service/payload``)
    are the unit's, and so are the services of a user manager (``user@1000.service/app.slice/
    bar.service``) or of a container the unit runs (``lab.service/payload/system.slice/
    ssh.service``). Under a scope (a login session, a registered container's
    ``machine-NAME.scope``) or a group systemd did not make, the process is no service of
    this host's.
    """
    for line in cgroup.splitlines():
        hierarchy, controllers, path = (line.split(":", 2) + ["", ""])[:3]
        if hierarchy != "0" and controllers != "name=systemd":
            continue
        for part in path.strip("/").split("/"):
            if part.endswith(".service"):
                return part
            if not part.endswith(".slice"):
                break
    return None


def _cgroup_unit(pid: int) -> str | None:
    try:
        with open(f"{psutil.PROCFS_PATH}/{pid}/cgroup") as file:
            return unit_of(file.read())
    except OSError:  # the process ended meanwhile
        return None


def find(services: list[Service]) -> dict[str, list[psutil.Process]]:
    """Each service's processes now (the exporter's own process is never one of them)."""
    found: dict[str, list[psutil.Process]] = {service.name: [] for service in services}
    by_cmdline = [(service, re.compile(service.cmdline)) for service in services if service.cmdline]
    by_unit = [service for service in services if service.unit]
    by_name = [service for service in services if service.process]
    me = os.getpid()
    for process in psutil.process_iter():
        if process.pid == me:
            continue
        try:
            unit = _cgroup_unit(process.pid) if by_unit else None
            for service in by_unit:
                if unit and fnmatchcase(unit, service.unit):
                    found[service.name].append(process)
            if by_name:
                name = process.name()
                for service in by_name:
                    if name == service.process:
                        found[service.name].append(process)
            if by_cmdline:
                command = " ".join(process.cmdline())
                for service, pattern in by_cmdline:
                    if command and pattern.search(command):
                        found[service.name].append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue  # ended while being looked at, or a kernel thread hiding its details
    return found


@dataclass
class Usage:
    """What a service's processes use together.

    ``open_fds`` and ``sockets`` are None when some process's descriptors could not be read.
    """

    processes: int = 0
    cpu_user_seconds: float = 0.0
    cpu_system_seconds: float = 0.0
    resident_bytes: int = 0
    started: float | None = None  # the oldest process's start, Unix time
    open_fds: int | None = 0
    sockets: set[int] | None = field(default_factory=set)  # socket inodes, each shared socket once


def _descriptors(pid: int) -> tuple[int | None, set[int] | None]:
    """How many descriptors the process holds, and its sockets' inodes; None for what it may not see.

    Listing ``/proc/PID/fd`` takes CAP_DAC_READ_SEARCH, reading an entry CAP_SYS_PTRACE too.
    """
    directory = f"{psutil.PROCFS_PATH}/{pid}/fd"
    try:
        names = os.listdir(directory)
    except PermissionError:
        return None, None
    sockets = set()
    for name in names:
        try:
            target = os.readlink(f"{directory}/{name}")
        except FileNotFoundError:
            continue  # closed meanwhile
        except PermissionError:
            return len(names), None
        if match := SOCKET_LINK.match(target):
            sockets.add(int(match.group(1)))
    return len(names), sockets


def measure(processes: list[psutil.Process]) -> Usage:
    """Add up the processes' use; one that ends meanwhile is left out, a zombie too."""
    usage = Usage()
    for process in processes:
        try:
            with process.oneshot():
                if process.status() == psutil.STATUS_ZOMBIE:
                    continue
                cpu = process.cpu_times()
                resident = process.memory_info().rss
                started = process.create_time()
            open_fds, sockets = _descriptors(process.pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied, FileNotFoundError, ProcessLookupError):
            continue
        usage.processes += 1
        usage.cpu_user_seconds += cpu.user
        usage.cpu_system_seconds += cpu.system
        usage.resident_bytes += resident
        usage.started = started if usage.started is None else min(usage.started, started)
        # One unreadable process makes the service's sum unknown: a partial sum would look like a drop.
        usage.open_fds = None if open_fds is None or usage.open_fds is None else usage.open_fds + open_fds
        usage.sockets = None if sockets is None or usage.sockets is None else usage.sockets | sockets
    return usage


def established_sockets() -> set[int]:
    """Inodes of the TCP connections (IPv4 and IPv6) established now, in the exporter's network namespace."""
    inodes = set()
    for table in ("tcp", "tcp6"):
        try:
            with open(f"{psutil.PROCFS_PATH}/net/{table}") as file:
                next(file)  # the header
                for line in file:
                    columns = line.split()
                    if len(columns) > 9 and columns[3] == TCP_ESTABLISHED:
                        inodes.add(int(columns[9]))
        except FileNotFoundError:  # a kernel without IPv6
            continue
    return inodes
