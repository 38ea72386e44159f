"""Refusals that are security events: forged payment callbacks, bad sync tokens, sync
messages from an unknown host or about another unit.

Every refusal is counted (``dichvucong_security_refusals_total{kind}``). Its
``security_events`` row and ``dichvucong.security`` log line are bounded: per kind
and worker process, at most ``DVC_SECURITY_EVENTS_PER_MINUTE`` a minute, so that a
flood grows neither the database nor the journal without bound. Refusals beyond
that are only counted, and one row and one line (``suppressed``: how many, in which
minute) report them with the first refusal of that kind in a later minute, or when
the worker stops: nothing is dropped without a trace.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone

import psycopg
from fastapi import FastAPI, Request
from psycopg.types.json import Jsonb

from dichvucong import logs
from dichvucong.metrics import SECURITY_REFUSALS

# Kind -> the message of its log line. Both are fixed texts: the security exporter names
# the event from the message, and a kind is a label value of the counter.
KINDS = {
    "payment_signature_invalid": "payment callback with a bad checksum refused",
    "sync_token_invalid": "sync message with a bad token refused",
    "sync_unknown_sender": "sync message from an unknown sender refused",
    "sync_foreign_unit": "sync message for another unit refused",
}
SUPPRESSED = "security events suppressed"
# A stopping worker reports what it suppressed if the database answers this fast.
FLUSH_DB_SECONDS = 2

for _kind in KINDS:
    SECURITY_REFUSALS.labels(_kind)  # every kind is exported from the start, at 0


@dataclass
class Minute:
    """One kind's refusals in one minute (counted from the epoch): written, and only counted."""

    number: int
    written: int = 0
    suppressed: int = 0

    def summary(self, kind: str) -> tuple[str, str, dict]:
        """The event (kind, message, detail) reporting this minute's suppressed refusals."""
        start = datetime.fromtimestamp(self.number * 60, timezone.utc).strftime("%Y-%m-%dT%H:%MZ")
        return kind, SUPPRESSED, {"suppressed": self.suppressed, "minute": start}


class Allowance:
    """Per kind, how many more events this process may write in the current minute.

    + per_minute: events a kind may write a minute (DVC_SECURITY_EVENTS_PER_MINUTE)
    + clock: seconds since the epoch (tests pass one they move)
    """

    def __init__(self, per_minute: int, clock=time.time):
        self.per_minute, self.clock = per_minute, clock
        self.minutes: dict[str, Minute] = {}

    def admit(self, kind: str) -> tuple[bool, Minute | None]:
        """Whether this refusal's event is written, and the closed minute (if any) whose
        suppressed refusals are now to be reported."""
        number = int(self.clock() // 60)
        current, closed = self.minutes.get(kind), None
        if current is None or current.number != number:
            closed = current if current is not None and current.suppressed else None
            current = self.minutes[kind] = Minute(number)
        if current.written < self.per_minute:
            current.written += 1
            return True, closed
        current.suppressed += 1
        return False, closed

    def drain(self) -> list[tuple[str, Minute]]:
        """(kind, minute) for every open minute with unreported suppressed refusals; each once."""
        pending = [(kind, minute) for kind, minute in self.minutes.items() if minute.suppressed]
        for kind, minute in pending:
            self.minutes[kind] = Minute(minute.number, minute.written)
        return pending


async def _write(conn, events: list[tuple[str, str, dict]]) -> None:
    for kind, _, detail in events:
        await conn.execute("INSERT INTO security_events (kind, detail) VALUES (%s, %s)", (kind, Jsonb(detail)))


def _log(events: list[tuple[str, str, dict]]) -> None:
    for kind, message, detail in events:
        logs.event(logs.security, message, kind=kind, **detail)


async def record(request: Request, kind: str, **detail) -> None:
    """Count a refusal of ``kind`` (a key of KINDS) and, if this minute allows, write its
    row and log line with ``detail`` (sender, unit and dossier codes, order ids: never
    citizen data). The caller then raises the refusal's error."""
    SECURITY_REFUSALS.labels(kind).inc()
    written, closed = request.app.state.refusals.admit(kind)
    events = ([closed.summary(kind)] if closed else []) + ([(kind, KINDS[kind], detail)] if written else [])
    if not events:
        return
    _log(events)
    async with request.app.state.pool.connection() as conn:
        await _write(conn, events)


async def flush(app: FastAPI) -> None:
    """Report the suppressed refusals of the minutes still open (the worker is stopping)."""
    events = [minute.summary(kind) for kind, minute in app.state.refusals.drain()]
    if not events:
        return
    _log(events)
    try:
        async with app.state.pool.connection(timeout=FLUSH_DB_SECONDS) as conn:
            await _write(conn, events)
    except psycopg.Error as error:  # the log lines above still report them
        logs.event(logs.security, "suppressed security events not written", error=type(error).__name__)
