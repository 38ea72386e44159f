"""A log file read as it grows: the complete lines written since the last read, each once.

What makes it safe to count from:

- **Position** is the file's inode and the offset just past the last complete line. A
  half line at the end stays in the file until its newline arrives, then is read whole.
- **Rotation** (renamed, a new file created at the path: logrotate's default) is seen
  as a new inode at the path. The old file stays open and is read to its end at each
  read until it is deleted (or ``keep_rotated`` newer ones replace it): a writer that
  has not reopened yet (libmodsecurity never reopens its audit log before nginx
  reloads) still writes there, and those lines are not lost.
- **Truncation** (logrotate's ``copytruncate``) is a file shorter than the offset, or
  whose first bytes or bytes just before the offset differ from those read there before
  (truncated and grown again between two reads): it is read again from its start. Only
  a file refilled with the very same bytes goes unseen, which time-stamped lines never are.
- **Garbage**: a line longer than ``max_line_bytes`` is skipped whole (and counted as
  skipped), never split into pieces that could each look like a line. Lines are bytes;
  decoding is the caller's.

The position can be saved (:meth:`LogFile.position`) and given back at the next start
(``saved``), so a restart neither reads a line twice nor loses the lines written while
the exporter was down (a file rotated meanwhile is found again by its inode).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

HEAD_BYTES = 128  # enough to hold the first line's time (nginx: after an address of up to 39 characters)
TAIL_BYTES = 64


@dataclass
class Batch:
    """What one read found."""

    lines: list[bytes] = field(default_factory=list)
    skipped: int = 0  # lines longer than max_line_bytes
    rotated: int = 0
    truncated: int = 0
    readable: bool = True  # False: the file is missing or cannot be opened


@dataclass
class _Open:
    """One open file and how far it has been read."""

    fd: int
    device: int
    inode: int
    offset: int = 0
    skipping: bool = False  # inside an overlong line: drop bytes up to the next newline
    head: bytes = b""  # the file's first bytes, as read
    tail: bytes = b""  # the bytes just before offset, as read

    def saved(self) -> dict:
        return {"inode": self.inode, "offset": self.offset, "skipping": self.skipping, "head": self.head.hex(),
                "tail": self.tail.hex()}


class LogFile:
    """The file at ``path``, read from where the last read stopped.

    + path: the log file
    + max_line_bytes: longer lines are skipped whole
    + max_read_bytes: at most this much is read by one :meth:`read` (the rest at the next)
    + saved: a :meth:`position` from an earlier run, or None for a first start
    + start_at_end: on a first start, skip what the file already holds (else read it all)
    + keep_rotated: rotated files still read until deleted; beyond this many the oldest is let go
    """

    def __init__(self, path: str, *, max_line_bytes: int = 65536, max_read_bytes: int = 64 << 20,
                 saved: dict | None = None, start_at_end: bool = True, keep_rotated: int = 2):
        self.path = path
        self.max_line_bytes = max_line_bytes
        self.max_read_bytes = max_read_bytes
        self.chunk = max(1 << 20, max_line_bytes + 1)
        self.start_at_end = start_at_end
        self.keep_rotated = keep_rotated
        self._saved = saved
        self._started = False  # the first open has decided where reading begins
        self._restored = False
        self._current: _Open | None = None
        self._rotated: list[_Open] = []

    def read(self) -> Batch:
        """The complete lines added since the last read: first the rest of rotated files, then the file's."""
        batch = Batch()
        budget = [self.max_read_bytes]
        if not self._restored:
            self._restore(batch)
            self._restored = True
        try:
            status = os.stat(self.path)
        except OSError:
            status = None
            batch.readable = False
            self._started = True  # a file that appears later is new: read from its start
        current = self._current
        if current and (status is None or (status.st_dev, status.st_ino) != (current.device, current.inode)):
            self._retire(batch)  # renamed away (a new file at the path, or none yet)
            current = None
        for old in list(self._rotated):  # their lines are older than the current file's
            self._drain_checked(old, batch, budget)
            self._let_go_if_deleted(old)
        if status is None:
            return batch
        if current is None:
            try:
                current = self._open()
            except OSError:
                batch.readable = False
                return batch
            self._current = current
        self._drain_checked(current, batch, budget)
        return batch

    def position(self) -> dict | None:
        """Where reading stands, as JSON data for ``saved``."""
        if not self._started:
            return self._saved
        return {"current": self._current.saved() if self._current else None,
                "rotated": [old.saved() for old in self._rotated]}

    def close(self) -> None:
        """Close every file this reader holds open."""
        for entry in [*self._rotated, *([self._current] if self._current else [])]:
            os.close(entry.fd)
        self._rotated, self._current = [], None

    # -- opening and restoring

    def _open(self) -> _Open:
        fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        status = os.fstat(fd)  # the file really opened, should it have rotated since the stat
        entry = _Open(fd, status.st_dev, status.st_ino)
        if not self._started:
            self._started = True
            saved = (self._saved or {}).get("current")
            if self._saved is None:
                entry.offset = self._end_of_last_line(fd, status.st_size) if self.start_at_end else 0
            elif saved and saved["inode"] == status.st_ino:
                self._resume(entry, saved)
        return entry

    def _restore(self, batch: Batch) -> None:
        """On a first read with a saved position: reopen the rotated files it names (found by inode)."""
        if not self._saved:
            return
        wanted = list(self._saved.get("rotated", []))
        saved_current = self._saved.get("current")
        try:
            at_path = os.stat(self.path).st_ino
        except OSError:
            at_path = None
        if saved_current and saved_current["inode"] != at_path:
            wanted.append(saved_current)  # rotated while the exporter was down
            batch.rotated += 1
        for saved in wanted:
            found = self._sibling_with_inode(saved["inode"])
            if found is None:
                continue
            fd = os.open(found, os.O_RDONLY | os.O_CLOEXEC)
            status = os.fstat(fd)
            entry = _Open(fd, status.st_dev, status.st_ino)
            self._resume(entry, saved)
            if self._truncated(entry):  # not the same file after all
                os.close(fd)
                continue
            self._rotated.append(entry)

    def _sibling_with_inode(self, inode: int) -> str | None:
        directory, name = os.path.split(self.path)
        try:
            with os.scandir(directory or ".") as entries:
                for entry in entries:
                    if entry.name.startswith(name) and not entry.name.endswith((".gz", ".xz", ".zst", ".bz2")) \
                            and entry.is_file(follow_symlinks=False) and entry.inode() == inode:
                        return entry.path
        except OSError:
            pass
        return None

    @staticmethod
    def _resume(entry: _Open, saved: dict) -> None:
        entry.offset = int(saved["offset"])
        entry.skipping = bool(saved.get("skipping"))
        entry.head = bytes.fromhex(saved.get("head", ""))
        entry.tail = bytes.fromhex(saved.get("tail", ""))

    def _end_of_last_line(self, fd: int, size: int) -> int:
        """The offset just past the file's last newline: a half line at the end is read once complete."""
        end = size
        while end > 0:
            start = max(0, end - self.chunk)
            data = os.pread(fd, end - start, start)
            newline = data.rfind(b"\n")
            if newline >= 0:
                return start + newline + 1
            end = start
        return 0

    # -- rotation and truncation

    def _retire(self, batch: Batch) -> None:
        self._rotated.append(self._current)
        self._current = None
        batch.rotated += 1
        while len(self._rotated) > self.keep_rotated:
            os.close(self._rotated.pop(0).fd)

    def _let_go_if_deleted(self, entry: _Open) -> None:
        status = os.fstat(entry.fd)
        if status.st_nlink == 0 and entry.offset >= status.st_size:
            os.close(entry.fd)
            self._rotated.remove(entry)

    @staticmethod
    def _truncated(entry: _Open) -> bool:
        if os.fstat(entry.fd).st_size < entry.offset:
            return True
        if entry.head and os.pread(entry.fd, len(entry.head), 0) != entry.head:
            return True
        return bool(entry.tail) and os.pread(entry.fd, len(entry.tail), entry.offset - len(entry.tail)) != entry.tail

    # -- reading lines

    def _drain_checked(self, entry: _Open, batch: Batch, budget: list[int]) -> None:
        """:meth:`_drain`, from the file's start if it was truncated since the last read."""
        if self._truncated(entry):
            entry.offset, entry.skipping, entry.head, entry.tail = 0, False, b"", b""
            batch.truncated += 1
        self._drain(entry, batch, budget)

    def _drain(self, entry: _Open, batch: Batch, budget: list[int]) -> None:
        """Append the complete lines of ``entry`` after its offset to ``batch`` (within the byte budget)."""
        limit = self.max_line_bytes
        while budget[0] > 0:
            data = os.pread(entry.fd, min(self.chunk, budget[0]), entry.offset)
            if not data:
                break
            if entry.skipping:
                newline = data.find(b"\n")
                used = len(data) if newline < 0 else newline + 1
                entry.offset += used
                budget[0] -= used
                if newline >= 0:
                    entry.skipping = False
                    batch.skipped += 1
                continue
            last = data.rfind(b"\n")
            if last < 0:
                if len(data) > limit:  # no newline within the limit: the line is overlong
                    entry.skipping = True
                    entry.offset += len(data)
                    budget[0] -= len(data)
                    continue
                break  # a half line: wait for the rest
            lines = data[:last].split(b"\n")
            kept = [line for line in lines if len(line) <= limit]
            batch.skipped += len(lines) - len(kept)
            batch.lines.extend(kept)
            entry.offset += last + 1
            budget[0] -= last + 1
            if len(data) < self.chunk:  # the end of the file as it was: a half line waits for the next read
                break
        if len(entry.head) < HEAD_BYTES and entry.offset > len(entry.head):
            entry.head = os.pread(entry.fd, min(HEAD_BYTES, entry.offset), 0)
        start = max(0, entry.offset - TAIL_BYTES)
        entry.tail = os.pread(entry.fd, entry.offset - start, start)
