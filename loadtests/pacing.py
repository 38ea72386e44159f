"""Open-model pacing: each simulated user starts its visits on a fixed schedule, whatever the
portal does, so a slow portal cannot slow the offered load down (a closed loop would).

A user of a journey planned for ``rate`` visits per second with ``users`` users starts a
visit every ``users / (rate x multiplier)`` seconds, the first at a random phase within that
interval (so users do not start together). A visit that ends after the next slot makes the
next one start late; the schedule does not move, so a portal that stays slower than the
plan keeps its users behind, and they start fewer visits than the schedule holds before the
run ends. Started over planned is the throughput the run reached; below 95 % the run could
not offer its target load and fails (``loadtests/slo.py``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from loadtests.profiles import Profile


def slots(profile: Profile, users: int, rate: float, phase: float) -> list[float]:
    """A user's visit start times (seconds into the run) that fall before the run's end.

    + profile: the run's length and multiplier over time
    + users: the users of this journey (the rate is shared among them)
    + rate: the journey's visits per second at multiplier 1
    + phase: where in the first interval this user starts, from 0 (at once) to 1
    """
    if users <= 0 or rate <= 0:
        return []
    times, at = [], phase * users / (rate * profile.multiplier(0.0))
    while at < profile.duration:
        times.append(at)
        at += users / (rate * profile.multiplier(at))
    return times


def random_phase() -> float:
    """A user's phase: uniform, so a journey's visits spread over its first interval."""
    return random.random()


@dataclass
class Arrivals:
    """Visits planned and started per journey, in this process (or, on the master, in all)."""

    planned: dict[str, int] = field(default_factory=dict)
    started: dict[str, int] = field(default_factory=dict)
    late: dict[str, int] = field(default_factory=dict)  # started over a second after their slot

    def plan(self, journey: str, count: int) -> None:
        """A user of ``journey`` has ``count`` slots before the run ends."""
        self.planned[journey] = self.planned.get(journey, 0) + count

    def start(self, journey: str, lateness: float) -> None:
        """A visit of ``journey`` starts ``lateness`` seconds after its slot."""
        self.started[journey] = self.started.get(journey, 0) + 1
        if lateness > 1.0:
            self.late[journey] = self.late.get(journey, 0) + 1

    def take(self) -> dict:
        """The counts so far, as plain data, and zero them (a worker's report to the master)."""
        counts = {"planned": self.planned, "started": self.started, "late": self.late}
        self.planned, self.started, self.late = {}, {}, {}
        return counts

    def add(self, counts: dict) -> None:
        """Add another process's counts (as :meth:`take` gives them)."""
        for kind in ("planned", "started", "late"):
            mine = getattr(self, kind)
            for journey, count in counts.get(kind, {}).items():
                mine[journey] = mine.get(journey, 0) + int(count)

    def as_dict(self) -> dict:
        """The counts, without zeroing them."""
        return {"planned": dict(self.planned), "started": dict(self.started), "late": dict(self.late)}
