"""A dossier's life: the national status codes and the moves allowed between them."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import IntEnum


class Status(IntEnum):
    """National status codes, as synced to the national portal."""

    SUBMITTED_ONLINE = 1
    RECEIVED = 2
    REJECTED = 3
    PROCESSING = 4
    SUPPLEMENT_REQUESTED = 5
    FEE_REQUESTED = 6
    WITHDRAWN = 7
    STOPPED = 8
    RESULT_READY = 9
    RESULT_RETURNED = 10


class Channel(IntEnum):
    """How the dossier was submitted."""

    IN_PERSON = 1
    ONLINE = 2
    POSTAL = 3


S = Status
# from -> the statuses it may move to. Anything else is refused (HTTP 409).
TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.SUBMITTED_ONLINE: frozenset({S.RECEIVED, S.REJECTED, S.SUPPLEMENT_REQUESTED, S.WITHDRAWN}),
    S.RECEIVED: frozenset({S.PROCESSING, S.REJECTED, S.SUPPLEMENT_REQUESTED, S.FEE_REQUESTED,
                           S.WITHDRAWN, S.STOPPED}),
    S.PROCESSING: frozenset({S.SUPPLEMENT_REQUESTED, S.FEE_REQUESTED, S.RESULT_READY, S.REJECTED,
                             S.STOPPED}),
    S.SUPPLEMENT_REQUESTED: frozenset({S.RECEIVED, S.WITHDRAWN, S.STOPPED}),
    S.FEE_REQUESTED: frozenset({S.PROCESSING, S.WITHDRAWN, S.STOPPED}),
    S.RESULT_READY: frozenset({S.RESULT_RETURNED}),
    S.REJECTED: frozenset(),
    S.WITHDRAWN: frozenset(),
    S.STOPPED: frozenset(),
    S.RESULT_RETURNED: frozenset(),
}
# A dossier in one of these is finished: it can no longer be overdue.
FINISHED = frozenset({S.REJECTED, S.WITHDRAWN, S.STOPPED, S.RESULT_READY, S.RESULT_RETURNED})

# The officer's actions, each one move.
OFFICER_ACTIONS: dict[str, Status] = {
    "receive": S.RECEIVED,
    "reject": S.REJECTED,
    "request-supplement": S.SUPPLEMENT_REQUESTED,
    "process": S.PROCESSING,
    "request-fee": S.FEE_REQUESTED,
    "stop": S.STOPPED,
    "result-ready": S.RESULT_READY,
    "return-result": S.RESULT_RETURNED,
}


def allowed(current: int, target: int) -> bool:
    """True if a dossier in ``current`` may move to ``target``."""
    return Status(target) in TRANSITIONS[Status(current)]


def initial_status(channel: Channel) -> Status:
    """Online dossiers wait to be received; desk and postal ones are received on arrival."""
    return S.SUBMITTED_ONLINE if channel == Channel.ONLINE else S.RECEIVED


def due_date(start: datetime, processing_days: int) -> datetime:
    """The appointment: ``processing_days`` working days (Monday to Friday) after ``start``."""
    due, left = start, processing_days
    while left:
        due += timedelta(days=1)
        if due.weekday() < 5:
            left -= 1
    return due


def is_overdue(status: int, due_at: datetime, now: datetime) -> bool:
    """Overdue is derived, never stored: past the appointment and not finished."""
    return Status(status) not in FINISHED and now > due_at
