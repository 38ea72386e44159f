"""The systemd journal, read through ``journalctl`` from a cursor: each entry once, across restarts.

``journalctl`` rather than python-systemd: it is on every Debian host, needs no compiled
binding in the exporter's virtual environment, and its JSON output carries each entry's
cursor. One run per scrape reads the entries from the saved cursor that match the
programs and units asked for, and drops the entry of the cursor itself; the cursor of
the last entry read is the new position, saved with the counts. ``--cursor`` rather than
``--after-cursor``: with matches, systemd 252's ``--after-cursor`` skips two entries
after seeking, so when the cursor's own entry does not match (the journal's last entry
at the start) it loses the first entry that does.

On a first start (no saved cursor) reading begins at the journal's end (``-n 0
--show-cursor``): what happened before the exporter was installed is not counted. A
cursor journalctl can no longer use is counted as ``cursor_lost`` and reading starts
again at the end.

The exporter's user must be in the ``systemd-journal`` (or ``adm``) group to see the
system's entries: without it journalctl shows the user's own entries only and says so
on standard error, which marks the journal unreadable.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from dataclasses import dataclass, field
from typing import Iterable, NamedTuple, Sequence

FIELDS = "MESSAGE,SYSLOG_IDENTIFIER,_SYSTEMD_UNIT"
_NOT_ALL = "not seeing messages from other users"


class Entry(NamedTuple):
    """What the parsers need of one journal entry."""

    identifier: str
    unit: str
    message: str


@dataclass
class JournalBatch:
    """What one read found."""

    entries: list[Entry] = field(default_factory=list)
    readable: bool = True
    cursor_lost: bool = False


def text(value) -> str:
    """A journal field as text: journalctl writes a string, an array of bytes (not UTF-8), an array of
    values (a field given twice: the first is taken) or null (a field over 4 KiB)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value:
        if all(isinstance(byte, int) and 0 <= byte < 256 for byte in value):
            return bytes(value).decode("utf-8", "replace")
        return text(value[0])
    return ""


def matches(identifiers: Iterable[str], units: Iterable[str]) -> list[str]:
    """journalctl's match arguments: any of the identifiers, or any of the units."""
    args = [f"SYSLOG_IDENTIFIER={name}" for name in identifiers]
    unit_args = [f"_SYSTEMD_UNIT={unit}" for unit in units]
    return args + (["+"] if args and unit_args else []) + unit_args


class Journal:
    """Entries from ``identifiers`` and ``units`` added since the last read.

    + identifiers: SYSLOG_IDENTIFIER values (sshd, sudo...)
    + units: systemd units whose output is read (the portal's)
    + command: journalctl and any options of its own (``--directory=...`` for a copied journal)
    + saved: a :meth:`position` from an earlier run, or None for a first start
    + max_entries: at most this many entries a read (the rest at the next read)
    """

    def __init__(self, identifiers: Sequence[str], units: Sequence[str] = (), *,
                 command: Sequence[str] = ("journalctl",), saved: dict | None = None, max_entries: int = 200_000,
                 timeout: float = 60.0):
        self.command = list(command)
        self.matches = matches(identifiers, units)
        self.max_entries = max_entries
        self.timeout = timeout
        self.started = saved is not None
        self.cursor: str | None = (saved or {}).get("cursor")

    def position(self) -> dict | None:
        """Where reading stands, as JSON data for ``saved`` (None before the first read)."""
        return {"cursor": self.cursor} if self.started else None

    def read(self) -> JournalBatch:
        """The matching entries after the cursor, oldest first (none on a first start: it begins at the end)."""
        batch = JournalBatch()
        if not self.started:
            batch.readable = self._start_at_end()
            return batch
        args = [*self.command, "--no-pager", "--output=json", f"--output-fields={FIELDS}"]
        if self.cursor:
            args.append(f"--cursor={self.cursor}")
        with tempfile.TemporaryFile() as errors:
            try:
                process = subprocess.Popen([*args, *self.matches], stdout=subprocess.PIPE, stderr=errors)
            except OSError:  # journalctl missing or not executable
                batch.readable = False
                return batch
            try:
                for raw in process.stdout:
                    entry = self._entry(raw)
                    if entry is not None:
                        batch.entries.append(entry)
                        if len(batch.entries) >= self.max_entries:
                            process.kill()
                            break
                process.stdout.close()
                returncode = process.wait(self.timeout)
            except BaseException:
                process.kill()
                process.wait()
                raise
            errors.seek(0)
            stderr = errors.read().decode("utf-8", "replace")
        complete = len(batch.entries) < self.max_entries
        if complete and returncode != 0:
            if "cursor" in stderr.lower():
                batch.cursor_lost = True
                batch.readable = self._start_at_end()
            else:
                batch.readable = False
        if _NOT_ALL in stderr:
            batch.readable = False
        return batch

    def _entry(self, raw: bytes) -> Entry | None:
        try:
            fields = json.loads(raw)
        except ValueError:
            return None  # not an entry (a journalctl notice on standard output)
        if not isinstance(fields, dict) or not isinstance(fields.get("__CURSOR"), str):
            return None
        if fields["__CURSOR"] == self.cursor:
            return None  # the entry read last time (--cursor starts at it)
        self.cursor = fields["__CURSOR"]
        return Entry(text(fields.get("SYSLOG_IDENTIFIER")), text(fields.get("_SYSTEMD_UNIT")),
                     text(fields.get("MESSAGE")))

    def _start_at_end(self) -> bool:
        """Take the cursor of the journal's last entry (none in an empty journal: then read from its start)."""
        try:
            result = subprocess.run([*self.command, "--no-pager", "--lines=0", "--show-cursor"],
                                    capture_output=True, timeout=self.timeout)
        except (OSError, subprocess.TimeoutExpired):
            return False
        empty = b"No journal files were found" in result.stderr
        if result.returncode != 0 and not empty:
            return False
        self.started = True
        self.cursor = None
        for line in result.stdout.decode("utf-8", "replace").splitlines():
            if line.startswith("-- cursor: "):
                self.cursor = line.removeprefix("-- cursor: ").strip()
        return _NOT_ALL not in result.stderr.decode("utf-8", "replace")
