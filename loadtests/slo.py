"""The SLO verdict: does a run's outcome meet the thresholds of one config file (slo.toml)?

A run passes when, for every journey and every endpoint, the 95th and 99th percentile
response times and the failure ratio are within their limits, and every journey started at
least ``min_share`` of the visits the open model scheduled. A run whose load generator ran
out of CPU, or that sent nothing, proves nothing either way: it is invalid.

Exit codes: 0 pass, 1 fail, 2 invalid.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_CONFIG = Path(__file__).with_name("slo.toml")
PASS, FAIL, INVALID = 0, 1, 2
LIMITS = ("p95_ms", "p99_ms", "max_failure_ratio")
JOURNEY = "JOURNEY"  # the request type of the per-visit entries in Locust's statistics


class SLOConfigError(ValueError):
    """The thresholds file is malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class Entry:
    """One line of Locust's statistics: an endpoint, or a whole journey (type JOURNEY)."""

    kind: str  # "endpoint" or "journey"
    name: str
    method: str
    requests: int
    failures: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float

    @property
    def failure_ratio(self) -> float:
        return self.failures / self.requests if self.requests else 0.0


@dataclass(frozen=True)
class Outcome:
    """What a run measured, as the verdict needs it."""

    entries: tuple[Entry, ...]
    planned: dict[str, int]
    started: dict[str, int]
    generator_overloaded: bool = False


@dataclass(frozen=True)
class Check:
    """One threshold applied to one journey or endpoint."""

    kind: str  # journey, endpoint, throughput, run
    name: str
    measure: str
    limit: str
    value: str
    ok: bool


@dataclass(frozen=True)
class Verdict:
    """Every check, and the run's result."""

    checks: tuple[Check, ...]
    invalid: tuple[str, ...] = field(default=())

    @property
    def code(self) -> int:
        """The exit code: 0 pass, 1 fail, 2 invalid."""
        if self.invalid:
            return INVALID
        return PASS if all(c.ok for c in self.checks) else FAIL

    @property
    def word(self) -> str:
        return {PASS: "PASS", FAIL: "FAIL", INVALID: "INVALID"}[self.code]

    @property
    def failed(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.ok)


@dataclass(frozen=True)
class Thresholds:
    """The parsed config: per-kind defaults and named overrides."""

    min_share: float
    endpoints: dict[str, dict[str, float]]
    journeys: dict[str, dict[str, float]]

    def limits(self, kind: str, name: str) -> dict[str, float]:
        table = self.journeys if kind == "journey" else self.endpoints
        return {**table["default"], **table.get(name, {})}


def load(path: Path | str = DEFAULT_CONFIG) -> Thresholds:
    """The thresholds of ``path``, checked: SLOConfigError names what is wrong."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text())
    except OSError as error:
        raise SLOConfigError(f"{path}: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise SLOConfigError(f"{path}: {error}") from None
    try:
        min_share = float(raw["throughput"]["min_share"])
    except (KeyError, TypeError, ValueError):
        raise SLOConfigError(f"{path}: [throughput] needs min_share, a share such as 0.95") from None
    if not 0 < min_share <= 1:
        raise SLOConfigError(f"{path}: [throughput] min_share must be in (0, 1], not {min_share}")
    tables = {}
    for kind in ("endpoints", "journeys"):
        table = raw.get(kind, {})
        if set(table.get("default", {})) != set(LIMITS):
            raise SLOConfigError(f"{path}: [{kind}.default] must set {', '.join(LIMITS)}")
        for name, limits in table.items():
            unknown = set(limits) - set(LIMITS)
            if unknown:
                raise SLOConfigError(f'{path}: [{kind}."{name}"] has unknown limit(s) {", ".join(sorted(unknown))}; '
                                     f"limits: {', '.join(LIMITS)}")
            for limit, value in limits.items():
                if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                    raise SLOConfigError(f'{path}: [{kind}."{name}"] {limit} must be a number >= 0, not {value!r}')
        tables[kind] = table
    return Thresholds(min_share, tables["endpoints"], tables["journeys"])


def verdict(outcome: Outcome, thresholds: Thresholds) -> Verdict:
    """Apply every threshold to the run's outcome."""
    invalid = []
    if outcome.generator_overloaded:
        invalid.append("the load generator ran out of CPU (over 90 %): its timings are not the portal's; "
                       "spread the load over more workers (--workers)")
    if not any(e.requests for e in outcome.entries):
        invalid.append("no request was sent")
    checks = []
    for entry in outcome.entries:
        label = entry.name if entry.kind == "journey" else f"{entry.method} {entry.name}".strip()
        limits = thresholds.limits(entry.kind, entry.name)
        for measure, value in (("p95_ms", entry.p95_ms), ("p99_ms", entry.p99_ms)):
            checks.append(Check(entry.kind, label, measure.removesuffix("_ms"), f"<= {limits[measure]:.0f} ms",
                                f"{value:.0f} ms", value <= limits[measure]))
        checks.append(Check(entry.kind, label, "failures", f"<= {limits['max_failure_ratio']:.1%}",
                            f"{entry.failure_ratio:.1%} ({entry.failures}/{entry.requests})",
                            entry.failure_ratio <= limits["max_failure_ratio"]))
    for journey, planned in sorted(outcome.planned.items()):
        if planned == 0:
            continue
        started = outcome.started.get(journey, 0)
        share = started / planned
        checks.append(Check("throughput", journey, "visits started", f">= {thresholds.min_share:.0%} of planned",
                            f"{share:.1%} ({started}/{planned})", share >= thresholds.min_share))
    return Verdict(tuple(checks), tuple(invalid))


def table(checks: tuple[Check, ...]) -> list[tuple[str, ...]]:
    """Rows for a printed table of ``checks``."""
    return [(c.kind, c.name, c.measure, c.value, c.limit, "ok" if c.ok else "FAIL") for c in checks]
