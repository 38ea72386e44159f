"""How many security events a portal process writes: per kind, a bounded number a minute;
the rest are counted and reported by one summary, so none is dropped without a trace."""

from dichvucong.refusals import KINDS, SUPPRESSED, Allowance

FORGED = "payment_signature_invalid"
START = 1_800_000_000.0  # 2027-01-15T08:00:00Z, the start of a minute


class Clock:
    """A wall clock the test moves."""

    def __init__(self):
        self.now = START

    def __call__(self) -> float:
        return self.now


def test_within_a_minute_only_the_allowance_is_written_and_the_rest_is_suppressed():
    allowance = Allowance(3, Clock())
    decisions = [allowance.admit(FORGED) for _ in range(10)]
    assert [written for written, _ in decisions] == [True] * 3 + [False] * 7
    assert [closed for _, closed in decisions] == [None] * 10


def test_the_first_refusal_of_a_later_minute_reports_the_suppressed_ones_once():
    clock = Clock()
    allowance = Allowance(3, clock)
    for _ in range(10):
        allowance.admit(FORGED)
    clock.now += 125  # two minutes later
    written, closed = allowance.admit(FORGED)
    assert written and closed.summary(FORGED) == (FORGED, SUPPRESSED, {"suppressed": 7, "minute": "2027-01-15T08:00Z"})
    clock.now += 60
    assert allowance.admit(FORGED) == (True, None)


def test_each_kind_has_an_allowance_of_its_own():
    allowance = Allowance(2, Clock())
    for kind in KINDS:
        assert [allowance.admit(kind)[0] for _ in range(3)] == [True, True, False]


def test_a_minute_within_its_allowance_reports_nothing():
    clock = Clock()
    allowance = Allowance(3, clock)
    allowance.admit(FORGED)
    clock.now += 60
    assert allowance.admit(FORGED) == (True, None)
    assert allowance.drain() == []


def test_a_stopping_worker_drains_the_suppressed_refusals_of_the_open_minutes_once():
    clock = Clock()
    allowance = Allowance(3, clock)
    for _ in range(5):
        allowance.admit(FORGED)
    allowance.admit("sync_foreign_unit")
    assert [(kind, minute.suppressed) for kind, minute in allowance.drain()] == [(FORGED, 2)]
    assert allowance.drain() == []
    assert allowance.admit(FORGED) == (False, None)  # the same minute: still spent
    clock.now += 60
    assert allowance.admit(FORGED)[0] is True
