"""File integrity of the web root and critical configuration, per configured group of paths.

The baseline is a file (``baseline_file``), not the state at the exporter's start: a
change made while the exporter was down, or one that restarts it, must still show. It
is taken at the first scan when the file does not exist, and again whenever it has been
deleted: after a deploy changes watched files on purpose, it deletes the baseline file
and the next scrape accepts the new state. A group added to the configuration is
baselined at its first scan. With no ``baseline_file`` the baseline is kept in memory
from the exporter's start.

Each file's fingerprint is the SHA-256 of its content plus its mode and owner (a
``chmod 666 /etc/sudoers`` is a change); a symbolic link's is its target; a file the
exporter may not read (``/etc/shadow``) is watched by its metadata (size, times, mode,
owner). A file whose metadata did not change since the last scan is not read again,
except in the full re-hash every ``rehash_seconds`` (content changed with forged times).

The time of the last change is the time of the scan that first saw the group's current
state differ from the previous scan's (a change, or a change put back).
"""

from __future__ import annotations

import glob
import hashlib
import os
import stat
import time
from typing import Callable, Iterable, Mapping, Sequence

from prometheus_client.core import GaugeMetricFamily

from portalops_exporters.security import state
from portalops_exporters.security.events import PREFIX

DEFAULT_GROUPS = {
    "web_root": ["/var/www"],
    "nginx": ["/etc/nginx"],
    "ssh": ["/etc/ssh/sshd_config", "/etc/ssh/sshd_config.d"],
    # Who may log in: a key planted in any account's authorized_keys, root's included, is a new
    # login (an account's own key pairs and known hosts are not watched: ssh itself writes them).
    "ssh_keys": ["/root/.ssh/authorized_keys*", "/home/*/.ssh/authorized_keys*", "/etc/ssh/authorized_keys*"],
    "accounts": ["/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow", "/etc/sudoers", "/etc/sudoers.d"],
    "firewall": ["/etc/nftables.conf"],
}


def files_of(patterns: Sequence[str], limit: int) -> list[str]:
    """The files (and symbolic links) that ``patterns`` name: directories walked, globs expanded."""
    found: set[str] = set()
    for pattern in patterns:
        for path in sorted(glob.glob(pattern, recursive=True)) if glob.has_magic(pattern) else [pattern]:
            if os.path.isdir(path) and not os.path.islink(path):
                for directory, subdirectories, names in os.walk(path):
                    subdirectories.sort()
                    found.update(os.path.join(directory, name) for name in names)
                    found.update(os.path.join(directory, name) for name in subdirectories
                                 if os.path.islink(os.path.join(directory, name)))
            elif os.path.lexists(path):
                found.add(path)
            if len(found) >= limit:
                return sorted(found)[:limit]
    return sorted(found)


def _metadata(status: os.stat_result) -> str:
    return (f"{status.st_size}:{status.st_mtime_ns}:{status.st_ctime_ns}:{stat.S_IMODE(status.st_mode):o}:"
            f"{status.st_uid}:{status.st_gid}")


def fingerprint(path: str, status: os.stat_result) -> str:
    """What a change of the file changes: content digest, mode and owner (see the module's docstring)."""
    owner = f"{stat.S_IMODE(status.st_mode):o}:{status.st_uid}:{status.st_gid}"
    if stat.S_ISLNK(status.st_mode):
        return f"link:{os.readlink(path)}"
    if not stat.S_ISREG(status.st_mode):
        return f"special:{stat.S_IFMT(status.st_mode):o}:{owner}"
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as file:
            while block := file.read(1 << 20):
                digest.update(block)
    except OSError:
        return f"meta:{_metadata(status)}"
    return f"sha256:{digest.hexdigest()}:{owner}"


class Integrity:
    """Whether each group of paths still matches its baseline, and when it last changed.

    + groups: group name -> paths, directories or globs (``**`` recursive)
    + baseline_file: where the baseline is kept (None: in memory, from the exporter's start)
    + rehash_seconds: how often every file is read again, changed metadata or not
    + max_files: files watched per group at most (a misconfigured ``/`` must not hash the disk)
    """

    def __init__(self, groups: Mapping[str, Sequence[str]], baseline_file: str | None = None,
                 rehash_seconds: float = 3600, max_files: int = 20000, clock: Callable[[], float] = time.time):
        self.groups = {name: list(paths) for name, paths in groups.items()}
        self.baseline_file = baseline_file
        self.rehash_seconds = rehash_seconds
        self.max_files = max_files
        self.clock = clock
        self._cache: dict[str, tuple[str, str]] = {}  # path -> (metadata, fingerprint)
        self._rehashed = 0.0
        self._baseline: dict = {}  # group -> {"files", "taken", "last_change", "seen"}
        self._stamp: tuple | None = None  # the baseline file as last read or written

    def scan(self, name: str) -> dict[str, str]:
        """The fingerprint of every file of group ``name`` now."""
        result = {}
        for path in files_of(self.groups[name], self.max_files):
            try:
                status = os.lstat(path)
                metadata = f"{status.st_ino}:{_metadata(status)}"
                cached = self._cache.get(path)
                result[path] = cached[1] if cached and cached[0] == metadata else fingerprint(path, status)
                self._cache[path] = (metadata, result[path])
            except OSError:  # removed between the listing and the look: absent from this scan
                continue
        return result

    def collect(self) -> Iterable[GaugeMetricFamily]:
        """Scan every group and report it against its baseline."""
        now = self.clock()
        if now - self._rehashed >= self.rehash_seconds:
            self._cache.clear()
            self._rehashed = now
        baseline, dirty = self._load()
        changed = GaugeMetricFamily(f"{PREFIX}_integrity_changed",
                                    "1 if a file of the group differs from the baseline (changed, added or "
                                    "removed), else 0.", labels=["group"])
        files = GaugeMetricFamily(f"{PREFIX}_integrity_files", "Files of the group watched.", labels=["group"])
        last = GaugeMetricFamily(f"{PREFIX}_integrity_last_change_timestamp_seconds",
                                 "When a scan first saw the group's files differ from the scan before "
                                 "(0: none since the baseline).", labels=["group"])
        taken = GaugeMetricFamily(f"{PREFIX}_integrity_baseline_timestamp_seconds",
                                  "When the group's baseline was taken.", labels=["group"])
        for name in self.groups:
            current = self.scan(name)
            seen = _digest(current)
            group = baseline.get(name)
            if group is None:
                group = baseline[name] = {"files": current, "taken": now, "last_change": 0.0, "seen": seen}
                dirty = True
            if group.get("seen") != seen:  # differs from the scan before (saved, so a restart keeps it)
                group["last_change"], group["seen"] = now, seen
                dirty = True
            changed.add_metric([name], 1.0 if current != group["files"] else 0.0)
            files.add_metric([name], len(current))
            last.add_metric([name], group["last_change"])
            taken.add_metric([name], group["taken"])
        for name in set(baseline) - set(self.groups):
            del baseline[name]
            dirty = True
        if dirty:
            self._store(baseline)
        return [changed, files, last, taken]

    def _load(self) -> tuple[dict, bool]:
        """The baseline, and whether it is new (to be written)."""
        if self.baseline_file is None:
            return self._baseline, False
        try:
            status = os.stat(self.baseline_file)
        except FileNotFoundError:
            self._baseline = {}
            return self._baseline, True
        stamp = (status.st_ino, status.st_mtime_ns, status.st_size)
        if stamp != self._stamp:  # written by someone else (or a first scan): read it again
            self._baseline = state.load(self.baseline_file) or {}
            self._stamp = stamp
        return self._baseline, False

    def _store(self, baseline: dict) -> None:
        self._baseline = baseline
        if self.baseline_file is not None:
            state.save(self.baseline_file, baseline)
            status = os.stat(self.baseline_file)
            self._stamp = (status.st_ino, status.st_mtime_ns, status.st_size)


def _digest(files: Mapping[str, str]) -> str:
    """One digest of a group's scan, to tell whether it differs from the scan before."""
    return hashlib.sha256("\n".join(f"{path}\t{mark}" for path, mark in sorted(files.items())).encode()).hexdigest()
