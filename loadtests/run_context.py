"""One load-test run as each Locust process sees it: the target, the volume and profile, the
journeys' plans, and what the journeys share (the catalogue, dossier codes seen, the clock).

The master (or the only process) builds the run's specification from its options and the
inventory; Locust hands the options to its workers, which build the same run from it.
"""

from __future__ import annotations

import collections
import functools
import os
import random
import threading
import time
from dataclasses import dataclass, field

import requests

from inventory.roles import ONESTOP_HOSTS
from loadtests import model
from loadtests.model import ATTACHMENT_SIZES, JourneyPlan, Volume
from loadtests.pacing import Arrivals
from loadtests.profiles import Profile, profile
from loadtests.target import Sender, Target

CATALOGUE_PAGE = 100


@dataclass
class Run:
    """The run's shared state in this process."""

    target: Target
    volume: Volume
    profile: Profile
    plans: dict[str, JourneyPlan]
    arrivals: Arrivals = field(default_factory=Arrivals)
    started_at: float = field(default_factory=time.monotonic)
    catalogue: list[dict] = field(default_factory=list)
    codes: collections.deque = field(default_factory=lambda: collections.deque(maxlen=5000))
    _sources: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _catalogue_lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_spec(cls, spec: dict) -> "Run":
        """The run of a specification (see :func:`spec`)."""
        target = Target.from_dict(spec["target"])
        volume = Volume(**spec["volume"])
        shape = profile(spec["profile"]["name"], spec["profile"]["duration"], spec["profile"]["spike_factor"])
        return cls(target, volume, shape, plans_for(target, volume, shape))

    def elapsed(self) -> float:
        """Seconds since this process's test started."""
        return time.monotonic() - self.started_at

    # --- what the journeys share ---------------------------------------------------------

    def procedures(self) -> list[dict]:
        """The procedure catalogue, read by the first user that needs it (not in the test's
        start: a Locust worker must not block there, or its master takes it for lost)."""
        with self._catalogue_lock:
            if not self.catalogue:
                self.load_catalogue()
        return self.catalogue

    def load_catalogue(self) -> None:
        """Read the whole procedure catalogue (not measured: it is the run's set-up)."""
        procedures, offset = [], 0
        while True:
            response = requests.get(f"{self.target.base_url}/api/procedures", timeout=30,
                                    params={"limit": CATALOGUE_PAGE, "offset": offset},
                                    verify=self.target.ca_file or True)
            response.raise_for_status()
            page = response.json()["procedures"]
            procedures += page
            if len(page) < CATALOGUE_PAGE:
                break
            offset += CATALOGUE_PAGE
        if not procedures:
            raise RuntimeError(f"{self.target.base_url} has an empty procedure catalogue")
        self.catalogue = procedures

    def pick_procedure(self, tier: str | None = None) -> dict:
        """A procedure to file: full-process (level 4) at the volume's share, else partial (3)."""
        level = 4 if random.random() < self.volume.full_process_share else 3
        for wanted in ((level, tier), (None, tier), (level, None), (None, None)):
            choices = [p for p in self.procedures() if wanted[0] in (None, p["level"]) and wanted[1] in (None, p["tier"])]
            if choices:
                return random.choice(choices)
        raise RuntimeError("the procedure catalogue is empty")

    def unit_for(self, procedure: dict) -> str:
        """The unit a dossier of ``procedure`` is filed with: one of its tier, else the province."""
        units = [u.code for u in self.target.units if u.tier == procedure["tier"]]
        return random.choice(units) if units else self.target.province_unit

    def fee_of(self, procedure_code: str) -> int:
        """The procedure's fee in VND (0 if unknown)."""
        return self._fees().get(procedure_code, 0)

    @functools.cache
    def _fees(self) -> dict[str, int]:
        return {p["code"]: int(p.get("fee_vnd") or 0) for p in self.procedures()}

    def search_words(self) -> str:
        """Two words of a real procedure's name, as a citizen would type them."""
        words = random.choice(self.procedures())["name"].split()
        start = random.randrange(max(1, len(words) - 1))
        return " ".join(words[start:start + 2])

    def officer_unit(self) -> str:
        """The unit of the officer making this visit."""
        return random.choice(self.target.units).code

    def sender(self) -> Sender:
        """The one-stop host syncing in this visit."""
        return random.choice(self.target.senders)

    def remember(self, code: str) -> None:
        """A dossier code seen in this run, for status look-ups."""
        self.codes.append(code)

    def known_code(self) -> str | None:
        """A dossier code someone could look up, or None before any is known."""
        return random.choice(self.codes) if self.codes else None

    def attachment_sizes(self) -> list[int]:
        """The sizes of one dossier's files: ``attachments_per_dossier`` on average, at least one."""
        mean = self.volume.attachments_per_dossier
        count = max(1, int(mean) + (random.random() < mean - int(mean)))
        sizes, shares = zip(*ATTACHMENT_SIZES)
        return random.choices(sizes, weights=shares, k=count)

    @functools.cache
    def attachment(self, size: int) -> bytes:
        """A PDF-looking file of ``size`` bytes (made once per size: making it is not the test)."""
        header = b"%PDF-1.4\n% portalops load test\n"
        return header + os.urandom(max(0, size - len(header)))

    def next_source_address(self) -> str:
        """The next address of the pool, round robin over this process's users."""
        with self._lock:
            address = self.target.source_addresses[self._sources % len(self.target.source_addresses)]
            self._sources += 1
        return address

    def __hash__(self):  # functools.cache on methods keys on the instance
        return id(self)


def plans_for(target: Target, volume: Volume, shape: Profile) -> dict[str, JourneyPlan]:
    """The journeys' plans for this target: a journey the inventory cannot serve gets no users."""
    plans = model.plan(volume, shape.highest)
    if not target.onestop_units:
        plans["onestop_sync"] = JourneyPlan("onestop_sync", 0.0, plans["onestop_sync"].visit_seconds, 0,
                                            f"not run: the inventory has none of {ONESTOP_HOSTS}")
    elif not target.senders:
        plans["onestop_sync"] = JourneyPlan("onestop_sync", 0.0, plans["onestop_sync"].visit_seconds, 0,
                                            "not run: no one-stop host has its certificate from the deploy's CA yet"
                                            " (deploy first)")
    return plans


def spec(target: Target, volume: Volume, name: str, duration: float | None, spike_factor: float) -> dict:
    """A run's specification as plain data (what the master hands its workers)."""
    shape = profile(name, duration, spike_factor)
    return {"target": target.as_dict(), "volume": model.describe(volume),
            "profile": {"name": shape.name, "duration": shape.duration, "spike_factor": spike_factor}}


_current: Run | None = None


def current() -> Run | None:
    """This process's run, or None before its test starts."""
    return _current


def context() -> Run:
    """This process's run (set when its test starts)."""
    if _current is None:
        raise RuntimeError("no load-test run has started in this process")
    return _current


def begin(run: Run) -> Run:
    """Make ``run`` this process's run."""
    global _current
    _current = run
    return run


def users_total(plans: dict[str, JourneyPlan]) -> int:
    """All users of a run."""
    return sum(p.users for p in plans.values())

