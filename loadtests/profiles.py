"""Load profiles: how the offered load moves over a run, as a multiplier of the peak hour's rates.

- ``smoke``: a quarter of the peak for a minute: every journey works, end to end.
- ``peak``: the busiest hour's rates held for ten minutes.
- ``spike``: a filing deadline, the Monday after a holiday or a cutover like July 2025:
  the peak for a fifth of the run, ``spike_factor`` x the peak for the middle two fifths,
  then the peak again, to see that the portal holds and recovers.
- ``soak``: an ordinary busy hour (60 % of the peak) for two hours, for leaks and drift.

Every profile's length can be changed (``--duration``); its shape scales with it.
"""

from __future__ import annotations

from dataclasses import dataclass

# Phases as (share of the run's length, multiplier); shares sum to 1.
PHASES = {
    "smoke": ((1.0, 0.25),),
    "peak": ((1.0, 1.0),),
    "spike": ((0.2, 1.0), (0.4, None), (0.4, 1.0)),  # None: the spike factor
    "soak": ((1.0, 0.6),),
}
DURATIONS = {"smoke": 60, "peak": 600, "spike": 900, "soak": 7200}
SPIKE_FACTOR = 3.0
# After a run's end, how long the visits under way may take to finish before the test stops.
DRAIN_SECONDS = 60


@dataclass(frozen=True)
class Profile:
    """A run's length and its multiplier over time."""

    name: str
    duration: float  # seconds
    phases: tuple[tuple[float, float], ...]  # (until this many seconds, multiplier)
    spike_factor: float = SPIKE_FACTOR

    def multiplier(self, elapsed: float) -> float:
        """The multiplier ``elapsed`` seconds into the run (the last phase's after the end)."""
        for until, value in self.phases:
            if elapsed < until:
                return value
        return self.phases[-1][1]

    @property
    def highest(self) -> float:
        """The largest multiplier of the run: users are sized for it."""
        return max(value for _, value in self.phases)

    def offered(self, start: float, end: float) -> float:
        """The integral of the multiplier from ``start`` to ``end`` seconds (target visits per unit rate)."""
        total, begin = 0.0, 0.0
        for until, value in self.phases:
            low, high = max(start, begin), min(end, until)
            if high > low:
                total += (high - low) * value
            begin = until
        return total


def profile(name: str, duration: float | None = None, spike_factor: float = SPIKE_FACTOR) -> Profile:
    """The profile called ``name``, ``duration`` seconds long (its default if None)."""
    if name not in PHASES:
        raise ValueError(f"no load profile {name!r}; profiles: {', '.join(PHASES)}")
    length = DURATIONS[name] if duration is None else float(duration)
    if not length > 0:
        raise ValueError(f"a run lasts more than 0 seconds, not {duration}")
    if spike_factor <= 0:
        raise ValueError(f"the spike factor must be above 0, not {spike_factor}")
    phases, until = [], 0.0
    for share, value in PHASES[name]:
        until += share * length
        phases.append((until, spike_factor if value is None else value))
    return Profile(name, length, tuple(phases), spike_factor)


def parse_duration(text: str) -> float:
    """Seconds from ``90``, ``90s``, ``10m`` or ``2h``."""
    units = {"s": 1, "m": 60, "h": 3600}
    text = text.strip().lower()
    scale = units.get(text[-1:], None)
    number = text[:-1] if scale else text
    try:
        seconds = float(number) * (scale or 1)
    except ValueError:
        raise ValueError(f"{text!r} is not a duration (90, 90s, 10m, 2h)") from None
    if seconds <= 0:
        raise ValueError(f"a duration is more than 0 seconds, not {text!r}")
    return seconds
