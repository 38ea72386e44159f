"""Benchmark: the lab portal's capacity curve, and the peak it holds within the SLOs.

It runs the load test's ``peak`` profile against the inventory's portal at a rising series
of loads, each a multiple of the volume model's peak hour (``dossiers_per_day`` scaled, every
other number as set), one run per step, ``--duration`` each, and records per step: the
offered load (visits per second the schedule held), what was started and answered (visits
and requests per second), the 95th percentile over every endpoint, failures and the verdict.
The highest step that passes is the peak the lab holds within the SLOs; the curve stops two
steps after the first failure (the portal is past its knee, more only piles up).

Every step is a real ``portalops loadtest`` run (same journeys, gate and report, one directory
per step under ``--out``), so the curve measures what a release would be gated on. The steps
run in one session against the same hosts, one after the other: the ratios between steps are
the figures, as the machine's other load shifts them all.

Run as root on a deployed lab: ``.venv/bin/python bench/capacity.py $(.venv/bin/portalops lab
inventory) [--steps 0.5,1,2,4,8] [--duration 120] [--workers 0] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)

from loadtests import driver  # noqa: E402
from loadtests.model import Volume  # noqa: E402

STOP_AFTER_FAILURES = 2


def step(inventory: str, multiple: float, duration: float, workers: int, out: Path) -> dict:
    """One load test at ``multiple`` x the peak hour; its figures."""
    directory = out / f"x{multiple:g}"
    dossiers = Volume().dossiers_per_day * multiple
    code = driver.run(["--inventory", inventory, "--load-profile", "peak", "--duration", f"{duration}s",
                       "--report-dir", str(directory), "--volume", f"dossiers_per_day={dossiers}"],
                      workers, duration + driver.GRACE_SECONDS)
    result = json.loads((directory / "result.json").read_text())
    endpoints = [e for e in result["entries"] if e["kind"] == "endpoint"]
    requests = sum(e["requests"] for e in endpoints)
    journeys = result["journeys"].values()
    planned, started = sum(j["planned"] for j in journeys), sum(j["started"] for j in journeys)
    return {
        "multiple": multiple, "dossiers_per_day": dossiers, "verdict": result["verdict"]["result"], "exit": code,
        "offered_visits_per_s": planned / duration, "started_visits_per_s": started / duration,
        "requests_per_s": requests / duration,
        "p95_ms": max((e["p95_ms"] for e in endpoints if e["requests"]), default=0.0),
        "failure_ratio": sum(e["failures"] for e in endpoints) / requests if requests else 0.0,
        "failed_checks": [f"{c['name']} {c['measure']}" for c in result["verdict"]["checks"] if not c["ok"]],
        "report": str(directory / "report.html"),
    }


def table(steps: list[dict]) -> str:
    """The curve as a Markdown table."""
    lines = ["| x peak | dossiers/day | visits/s offered | visits/s started | requests/s | worst p95 (ms) "
             "| failed | verdict |", "|---|---|---|---|---|---|---|---|"]
    for s in steps:
        lines.append(f"| {s['multiple']:g} | {s['dossiers_per_day']:,.0f} | {s['offered_visits_per_s']:.2f} | "
                     f"{s['started_visits_per_s']:.2f} | {s['requests_per_s']:.1f} | {s['p95_ms']:.0f} | "
                     f"{s['failure_ratio']:.2%} | {s['verdict']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("inventory")
    parser.add_argument("--steps", default="0.5,1,2,4,8", help="multiples of the peak hour, rising")
    parser.add_argument("--duration", type=float, default=120, help="seconds per step")
    parser.add_argument("--workers", type=int, default=0, help="Locust workers per step (0: one process)")
    parser.add_argument("--out", type=Path, default=Path("/var/lib/portalops/bench/capacity"))
    parser.add_argument("--json", type=Path, help="also write the curve here")
    args = parser.parse_args(argv)
    multiples = sorted(float(m) for m in args.steps.split(","))
    steps, failures = [], 0
    for multiple in multiples:
        steps.append(step(args.inventory, multiple, args.duration, args.workers, args.out))
        print(table(steps[-1:]).splitlines()[-1], flush=True)
        failures += steps[-1]["verdict"] != "PASS"
        if failures >= STOP_AFTER_FAILURES:
            break
    holds = [s for s in steps if s["verdict"] == "PASS"]
    print(table(steps))
    peak = max(holds, key=lambda s: s["multiple"]) if holds else None
    print(f"peak held within the SLOs: {peak['multiple']:g} x Thanh Hóa's peak hour "
          f"({peak['dossiers_per_day']:,.0f} dossiers a day)" if peak else "no step passed the SLOs")
    if args.json:
        args.json.write_text(json.dumps({"steps": steps, "peak_multiple": peak and peak["multiple"]}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
