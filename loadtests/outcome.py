"""What a run measured, read from Locust's statistics: the per-entry figures the verdict
needs, a timeline of per-interval figures for the report's plots, and the result file.

Works the same on a single process and on a master, whose statistics hold its workers'.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from locust.stats import RequestStats, StatsEntry, calculate_response_time_percentile, diff_response_time_dicts

from loadtests.run_context import Run
from loadtests.slo import JOURNEY, Entry, Outcome, Verdict

SAMPLE_SECONDS = 5  # the timeline's interval


def key(entry: StatsEntry) -> str:
    """A timeline key: ``kind|method|name``."""
    return f"{kind_of(entry)}|{entry.method}|{entry.name}"


def kind_of(entry: StatsEntry) -> str:
    return "journey" if entry.method == JOURNEY else "endpoint"


def percentiles(times: dict[int, int], count: int) -> dict[str, float]:
    """p50, p95 and p99 of a response-time histogram (Locust's, rounded milliseconds)."""
    return {f"p{round(p * 100)}_ms": float(calculate_response_time_percentile(times, count, p)) if count else 0.0
            for p in (0.5, 0.95, 0.99)}


class Timeline:
    """Per-interval requests, failures and percentiles of every entry, from cumulative stats."""

    def __init__(self):
        self.samples: list[dict] = []
        self._last: dict[str, tuple[int, int, dict[int, int]]] = {}
        self._started: dict[str, int] = {}

    def sample(self, stats: RequestStats, elapsed: float, users: int, started: dict[str, int]) -> None:
        """Add the interval ending now (``elapsed`` seconds into the run); ``started``: the visits
        started so far per journey."""
        entries = {}
        for entry in stats.entries.values():
            name = key(entry)
            requests, failures, times = self._last.get(name, (0, 0, {}))
            interval = diff_response_time_dicts(entry.response_times, times)
            count = entry.num_requests - requests
            entries[name] = {"requests": count, "failures": entry.num_failures - failures,
                             **percentiles(interval, count)}
            self._last[name] = (entry.num_requests, entry.num_failures, dict(entry.response_times))
        interval_started = {name: count - self._started.get(name, 0) for name, count in started.items()}
        self._started = dict(started)
        self.samples.append({"t": round(elapsed, 1), "users": users, "entries": entries, "started": interval_started})


def entries(stats: RequestStats) -> tuple[Entry, ...]:
    """The run's statistics, one Entry per endpoint and journey."""
    rows = []
    for entry in sorted(stats.entries.values(), key=lambda e: (kind_of(e), e.name, e.method)):
        figures = percentiles(entry.response_times, entry.num_requests - entry.num_none_requests)
        rows.append(Entry(kind_of(entry), entry.name, "" if entry.method == JOURNEY else entry.method,
                          entry.num_requests, entry.num_failures, figures["p50_ms"], figures["p95_ms"],
                          figures["p99_ms"], float(entry.max_response_time or 0)))
    return tuple(rows)


def outcome(stats: RequestStats, run: Run, overloaded: bool) -> Outcome:
    """The verdict's view of the run."""
    counts = run.arrivals.as_dict()
    return Outcome(entries(stats), counts["planned"], counts["started"], overloaded)


def result(run: Run, stats: RequestStats, measured: Outcome, judged: Verdict, timeline: Timeline,
           started_at: datetime, processes: int) -> dict:
    """Everything the run produced, as plain data: the report's input and result.json."""
    counts = run.arrivals.as_dict()
    return {
        "verdict": {"result": judged.word, "code": judged.code, "invalid": list(judged.invalid),
                    "checks": [vars(c) for c in judged.checks]},
        "profile": {"name": run.profile.name, "duration": run.profile.duration,
                    "spike_factor": run.profile.spike_factor,
                    "phases": [list(p) for p in run.profile.phases]},
        "volume": {k: v for k, v in vars(run.volume).items()},
        "target": {"base_url": run.target.base_url, "units": len(run.target.units),
                   "onestop_units": len(run.target.onestop_units), "source_addresses": len(run.target.source_addresses)},
        "journeys": {name: {"rate_per_second": plan.rate_per_second, "users": plan.users,
                            "visit_seconds": plan.visit_seconds, "summary": plan.summary,
                            "planned": counts["planned"].get(name, 0), "started": counts["started"].get(name, 0),
                            "late": counts["late"].get(name, 0)} for name, plan in run.plans.items()},
        "entries": [vars(e) for e in measured.entries],
        "timeline": timeline.samples,
        "errors": [{"method": e.method, "name": e.name, "error": str(e.error), "occurrences": e.occurrences}
                   for e in sorted(stats.errors.values(), key=lambda e: -e.occurrences)],
        "started_at": started_at.isoformat(timespec="seconds"),
        "ended_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "generator": {"processes": processes, "cpu_overloaded": measured.generator_overloaded},
    }


def save(result_data: dict, directory: Path) -> Path:
    """Write result.json and report.html into ``directory``; the report's path."""
    from loadtests import report

    directory.mkdir(parents=True, exist_ok=True)
    (directory / "result.json").write_text(json.dumps(result_data, indent=1, ensure_ascii=False) + "\n")
    return report.write(result_data, directory)
