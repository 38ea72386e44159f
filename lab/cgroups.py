"""A control group of its own for each lab host.

Without a system bus nspawn runs with ``--keep-unit``: the container's systemd
takes the cgroup nspawn was started in. Hosts started from the same shell would
then share one cgroup tree, and one host's systemd would stop or kill units of
the same name on every other host. Each host's nspawn process therefore moves
itself into ``portalops-lab/<host>`` in every hierarchy systemd uses, before it
starts the container.
"""

from __future__ import annotations

import errno
import os
import signal
import time
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
LAB_CGROUP = "portalops-lab"


def hierarchies() -> list[Path]:
    """The cgroup hierarchies systemd tracks services in, on this machine."""
    if (CGROUP_ROOT / "cgroup.controllers").exists():  # unified (cgroup v2 only)
        return [CGROUP_ROOT]
    return [CGROUP_ROOT / name for name in ("systemd", "unified") if (CGROUP_ROOT / name / "cgroup.procs").exists()]


def lab_cgroups() -> list[Path]:
    """The lab's parent cgroup in each hierarchy (present while any host runs)."""
    return [hierarchy / LAB_CGROUP for hierarchy in hierarchies()]


def host_cgroups(name: str) -> list[Path]:
    """The host's cgroup directory in each hierarchy."""
    return [parent / name for parent in lab_cgroups()]


def enter(name: str) -> None:
    """Move the calling process into the host's own cgroups (run in the child before exec)."""
    pid = str(os.getpid())
    for directory in host_cgroups(name):
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "cgroup.procs").write_text(pid)


def remove(name: str, wait_seconds: float = 20) -> None:
    """Remove the host's cgroups, deepest first, once its processes are gone.

    A stopped host's last processes (PostgreSQL's, say) can still be exiting; any left
    are killed, and removal is retried for ``wait_seconds`` before the error is raised.
    """
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            _remove_tree(name)
            return
        except OSError as error:
            if error.errno != errno.EBUSY or time.monotonic() > deadline:
                raise
            for directory in host_cgroups(name):
                for procs in directory.rglob("cgroup.procs"):
                    for pid in procs.read_text().split():
                        try:
                            os.kill(int(pid), signal.SIGKILL)
                        except ProcessLookupError:
                            pass
            time.sleep(0.5)


def _remove_tree(name: str) -> None:
    for directory in host_cgroups(name):
        if not directory.exists():
            continue
        for sub in sorted((p for p in directory.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
            sub.rmdir()
        directory.rmdir()


def remove_lab_root() -> None:
    """Remove what is left of hosts' cgroups (a host whose removal was interrupted), then
    the lab's parent cgroup."""
    names = {child.name for parent in lab_cgroups() if parent.exists() for child in parent.iterdir()
             if child.is_dir()}
    for name in sorted(names):
        try:
            remove(name)
        except OSError:
            pass  # leftovers() reports it
    for parent in lab_cgroups():
        try:
            parent.rmdir()
        except OSError:
            pass  # absent, or a host's cgroup is still inside: leftovers() reports it
