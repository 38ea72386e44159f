"""The volume model: from a few numbers about the province's busiest hour to the arrival rate
each journey must reach and the simulated users that takes (Little's law).

A journey is one visit of one kind of user (see ``loadtests/journeys.py``). Its target
arrival rate, in visits per second at the peak hour, follows from the day's dossiers:

- ``applicant``: the online dossiers (``dossiers_per_day`` x ``peak_hour_share`` x
  ``online_share``), each filed in one visit that also pays the fees officers asked for and
  tracks the applicant's earlier dossiers;
- ``status_lookup``: ``lookups_per_dossier`` anonymous look-ups by code for every dossier;
- ``catalogue``: ``browsing_per_dossier`` catalogue visits for every dossier;
- ``officer``: every dossier, online or not, takes ``officer_actions_per_dossier`` moves,
  made ``actions_per_officer_visit`` at a time from the unit's queue;
- ``onestop_sync``: the dossiers received at one-stop desks (not online) reach the province
  through their host's outbox, a create and then one progress message per move.

Users needed = arrival rate x time a visit lasts (think time plus one response-time
budget per request), times ``headroom`` so that a slower-than-usual portal still gets its
visits on time; each user then starts a visit every ``users / rate`` seconds.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

SECONDS_PER_HOUR = 3600


@dataclass(frozen=True)
class Volume:
    """The numbers a user sets; the defaults are Thanh Hóa's upper estimate (DOMAIN.md)."""

    # About 1.0 to 1.7 million dossiers a year: 4,000 to 7,000 a working day.
    dossiers_per_day: float = 7000
    # The busiest hour carries 15 to 20 % of a day.
    peak_hour_share: float = 0.20
    # Filed online, rather than at a desk or by post (1,050 of 1,095 on 1 July 2025).
    online_share: float = 0.95
    # Of online dossiers, those of full-process (level 4) procedures; the rest are partial (3).
    full_process_share: float = 0.6
    # Files attached to a dossier; sizes follow ATTACHMENT_SIZES.
    attachments_per_dossier: float = 3
    lookups_per_dossier: float = 3
    browsing_per_dossier: float = 4
    officer_actions_per_dossier: float = 4
    actions_per_officer_visit: float = 5
    # Users beyond Little's law's count, for visits slower than planned.
    headroom: float = 1.5

    def __post_init__(self):
        for field in fields(self):
            value = getattr(self, field.name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or value < 0:
                raise ValueError(f"volume {field.name} must be a number >= 0, not {value!r}")
        for name in ("peak_hour_share", "online_share", "full_process_share"):
            if getattr(self, name) > 1:
                raise ValueError(f"volume {name} is a share: between 0 and 1, not {getattr(self, name)}")
        if self.headroom < 1:
            raise ValueError(f"volume headroom must be at least 1, not {self.headroom}")
        if self.actions_per_officer_visit < 1:
            raise ValueError("volume actions_per_officer_visit must be at least 1")

    @classmethod
    def from_settings(cls, settings: dict[str, str]) -> "Volume":
        """A volume from ``name=value`` settings (``--volume dossiers_per_day=5000``), others default."""
        known = {field.name for field in fields(cls)}
        unknown = sorted(set(settings) - known)
        if unknown:
            raise ValueError(f"unknown volume setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        values = {}
        for name, text in settings.items():
            try:
                values[name] = float(text)
            except ValueError:
                raise ValueError(f"volume {name}={text!r} is not a number") from None
        return cls(**values)


# Attachment sizes of a dossier, as (bytes, share): phone photos and scans of papers mostly,
# now and then a long scanned PDF. All fit the portal's 20 MiB per file.
ATTACHMENT_SIZES = ((150 * 1024, 0.55), (600 * 1024, 0.35), (2500 * 1024, 0.10))


@dataclass(frozen=True)
class JourneyPlan:
    """What one journey must reach, and with how many users."""

    name: str
    rate_per_second: float  # target visits per second at multiplier 1
    visit_seconds: float  # planned length of one visit (think time + response budgets)
    users: int
    summary: str

    @property
    def pacing_seconds(self) -> float:
        """Seconds between the starts of one user's visits, at multiplier 1."""
        return self.users / self.rate_per_second if self.rate_per_second else math.inf


# Per journey: think time of one visit (seconds) and its requests, for the visit's length.
JOURNEY_SHAPES = {
    "catalogue": (6.0, 4),
    "applicant": (12.0, 9),
    "status_lookup": (2.0, 2),
    "officer": (8.0, 8),
    "onestop_sync": (1.0, 5),
}
# Response-time budget per request for planning the visit's length (the SLO's p95 at most).
REQUEST_BUDGET_SECONDS = 0.5


def rates(volume: Volume) -> dict[str, float]:
    """Target visits per second of each journey at the peak hour."""
    peak_dossiers = volume.dossiers_per_day * volume.peak_hour_share / SECONDS_PER_HOUR
    online = peak_dossiers * volume.online_share
    return {
        "catalogue": peak_dossiers * volume.browsing_per_dossier,
        "applicant": online,
        "status_lookup": peak_dossiers * volume.lookups_per_dossier,
        "officer": peak_dossiers * volume.officer_actions_per_dossier / volume.actions_per_officer_visit,
        "onestop_sync": peak_dossiers - online,
    }


def plan(volume: Volume, multiplier: float = 1.0) -> dict[str, JourneyPlan]:
    """Every journey's target and users, with users enough for ``multiplier`` x the peak rate."""
    peak = rates(volume)
    plans = {}
    for name, rate in peak.items():
        think, requests = JOURNEY_SHAPES[name]
        visit = think + requests * REQUEST_BUDGET_SECONDS
        users = math.ceil(rate * multiplier * visit * volume.headroom) if rate > 0 else 0
        plans[name] = JourneyPlan(name, rate, visit, users,
                                  f"{rate * SECONDS_PER_HOUR:,.0f} visits/h x {visit:.0f} s")
    return plans


def describe(volume: Volume) -> dict:
    """The volume's numbers, for reports."""
    return asdict(volume)
