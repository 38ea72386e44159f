"""The portal's load test, for Locust: ``locust -f loadtests/locustfile.py --headless
--inventory INVENTORY --load-profile peak`` (``portalops loadtest`` runs exactly this).

The master (or the only process) reads the inventory and the volume, prints the plan (each
journey's target rate and the users Little's law asks for), runs the profile's shape, and
at the end prints the SLO verdict, writes the report (``--report-dir``) and exits 0 (pass),
1 (fail) or 2 (invalid run). Workers (``--worker`` or ``--processes``) get the run's
specification from the master with its options.
"""

from __future__ import annotations

import json
import logging
import math
import sys
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import gevent
from locust import LoadTestShape, events
from locust.runners import WorkerRunner

from loadtests import run_context, slo
from loadtests.journeys import USERS, Applicant, Catalogue, Officer, OneStopSync, StatusLookup  # noqa: F401 (Locust finds them here)
from loadtests.model import Volume
from loadtests.outcome import SAMPLE_SECONDS, Timeline, outcome, result, save
from loadtests.profiles import DRAIN_SECONDS, DURATIONS, PHASES, SPIKE_FACTOR, parse_duration
from loadtests.sources import missing, pool
from loadtests.target import Target, TargetError, Unit, from_inventory
from inventory.thanhhoa import PROVINCE_CODE
from tabulate import tabulate

log = logging.getLogger("portalops.loadtest")
REPORT_KEY = "portalops_arrivals"  # what workers add to their reports to the master


@events.init_command_line_parser.add_listener
def options(parser):
    group = parser.add_argument_group("portalops", "The portal's volume model, profile and SLO gate")
    group.add_argument("--inventory", help="pyinfra inventory of the province (the portal host, units, one-stop hosts)")
    group.add_argument("--load-profile", choices=list(PHASES), default="smoke", help="load profile (default: smoke)")
    group.add_argument("--duration", help=f"run length such as 90s or 10m (default per profile: {DURATIONS})")
    group.add_argument("--spike-factor", type=float, default=SPIKE_FACTOR, help="the spike profile's multiplier")
    group.add_argument("--volume", action="append", default=[], metavar="NAME=VALUE",
                       help="a volume-model number, e.g. dossiers_per_day=5000 (repeatable)")
    group.add_argument("--slo", default=str(slo.DEFAULT_CONFIG), help="SLO thresholds file")
    group.add_argument("--report-dir", help="write result.json and report.html here")
    group.add_argument("--source-addresses", metavar="CIDR",
                       help="send each user's portal requests from one address of this network")
    group.add_argument("--ca-file", help="CA that signed the portal's certificate (with --host; the inventory's "
                       "deploy CA otherwise)")
    group.add_argument("--run-spec", default="", help="(set by the master for its workers)")


def build_spec(options) -> dict:
    """The run's specification from the options: inventory (or --host), volume, profile, sources."""
    from inventory.entries import inventory_entries

    if not (options.inventory or options.host):
        raise TargetError("--inventory (the province's pyinfra inventory) or --host (a portal's URL) is required")
    settings = dict(item.split("=", 1) if "=" in item else (item, "") for item in options.volume)
    volume = Volume.from_settings(settings)
    entries = inventory_entries(options.inventory) if options.inventory else []
    addresses = pool(options.source_addresses or sources_of(entries))
    absent = missing(addresses[:1] + addresses[-1:])
    if absent:
        raise TargetError(f"this machine cannot send from {', '.join(absent)} (source addresses "
                          f"{options.source_addresses or sources_of(entries)}): make them local first")
    if entries:
        target = from_inventory(entries, addresses)
        if options.host:
            target = replace(target, base_url=options.host.rstrip("/"))
    else:
        target = Target(base_url=options.host.rstrip("/"), ca_file=options.ca_file, province_unit=PROVINCE_CODE,
                        units=(Unit(PROVINCE_CODE, "province"),), source_addresses=tuple(addresses))
    duration = parse_duration(options.duration) if options.duration else None
    return run_context.spec(target, volume, options.load_profile, duration, options.spike_factor)


def sources_of(entries: list[dict]) -> str | None:
    """The inventory's ``loadtest_sources`` network (the lab sets it), if any."""
    return next((e["data"]["loadtest_sources"] for e in entries if e["data"].get("loadtest_sources")), None)


def plan_table(run: run_context.Run) -> str:
    """The plan, as printed before the run."""
    rows = [(p.name, f"{p.rate_per_second * 3600:,.0f}", f"{p.rate_per_second:.3f}", f"{p.visit_seconds:.1f}",
             p.users, "-" if math.isinf(p.pacing_seconds) else f"{p.pacing_seconds:.1f}", p.summary)
            for p in run.plans.values()]
    header = ["journey", "visits/h", "visits/s", "visit s", "users", "pacing s", "from"]
    return tabulate(rows, header, tablefmt="plain", disable_numparse=True)


class ProfileShape(LoadTestShape):
    """Every user at once (within a few seconds), held for the profile's length; then the
    visits under way end (users start nothing after the end) and the test stops. The
    profile's ups and downs are in the users' pacing, not in their number."""

    def tick(self):
        spec = json.loads(self.runner.environment.parsed_options.run_spec)
        elapsed, duration = self.get_run_time(), spec["profile"]["duration"]
        if elapsed >= duration + DRAIN_SECONDS or (elapsed >= duration and self.runner.user_count == 0):
            return None
        users = spec["users"]
        return users, max(1.0, users / 3)


@events.init.add_listener
def prepare(environment, **_):
    """On the master or the only process: build the run, size the user classes, print the plan."""
    if isinstance(environment.runner, WorkerRunner) or environment.parsed_options is None:
        return
    options = environment.parsed_options
    try:
        spec = build_spec(options)
        slo.load(options.slo)  # a malformed thresholds file fails now, not after the run
    except (TargetError, ValueError, RuntimeError) as error:
        log.error("portalops load test: %s", error)
        sys.exit(2)
    run = run_context.Run.from_spec(spec)
    spec["users"] = run_context.users_total(run.plans)
    options.run_spec = json.dumps(spec)
    for user in USERS:
        user.fixed_count = run.plans[user.journey].users
        user.weight = 0 if not user.fixed_count else user.weight
    print(f"Load profile {run.profile.name}: {run.profile.duration:.0f} s against {run.target.base_url}\n"
          f"{plan_table(run)}\n{spec['users']} users", flush=True)


_timeline = Timeline()
_started_at = datetime.now(timezone.utc)


@events.test_start.add_listener
def start(environment, **_):
    """Every process: the run's shared state; the master (or the only process) samples it."""
    global _started_at
    run = run_context.begin(run_context.Run.from_spec(json.loads(environment.parsed_options.run_spec)))
    _started_at = datetime.now(timezone.utc)
    if not isinstance(environment.runner, WorkerRunner):
        gevent.spawn(sample_every, environment, run)


def sample_every(environment, run: run_context.Run) -> None:
    """The report's timeline: one sample every SAMPLE_SECONDS while the test runs."""
    while True:
        gevent.sleep(SAMPLE_SECONDS)
        _timeline.sample(environment.stats, run.elapsed(), environment.runner.user_count, run.arrivals.started)


@events.report_to_master.add_listener
def send_arrivals(client_id, data):
    if run_context.current() is not None:
        data[REPORT_KEY] = run_context.context().arrivals.take()


_workers: set[str] = set()  # every worker that reported, for the result


@events.worker_report.add_listener
def add_arrivals(client_id, data):
    _workers.add(client_id)
    if REPORT_KEY in data and run_context.current() is not None:
        run_context.context().arrivals.add(data[REPORT_KEY])


@events.quitting.add_listener
def judge(environment, **_):
    """The verdict, printed and written, and the exit code."""
    if isinstance(environment.runner, WorkerRunner) or run_context.current() is None:
        return
    run, runner = run_context.context(), environment.runner
    _timeline.sample(environment.stats, run.elapsed(), runner.user_count, run.arrivals.started)
    overloaded = bool(runner.cpu_warning_emitted or getattr(runner, "worker_cpu_warning_emitted", False))
    measured = outcome(environment.stats, run, overloaded)
    judged = slo.verdict(measured, slo.load(environment.parsed_options.slo))
    print(verdict_text(judged), flush=True)
    if environment.parsed_options.report_dir:
        processes = max(1, len(_workers))
        report = save(result(run, environment.stats, measured, judged, _timeline, _started_at, processes),
                      Path(environment.parsed_options.report_dir))
        print(f"Report: {report}", flush=True)
    environment.process_exit_code = judged.code


def verdict_text(judged: slo.Verdict) -> str:
    """What the terminal shows at the end: the failed checks, or all if none failed, and the word."""
    lines = [f"INVALID RUN: {reason}" for reason in judged.invalid]
    shown = judged.failed or judged.checks
    header = ["kind", "name", "measure", "value", "limit", "result"]
    lines.append(tabulate(slo.table(shown), header, tablefmt="plain", disable_numparse=True))
    lines.append(f"SLO verdict: {judged.word} ({len(judged.failed)} of {len(judged.checks)} checks failed)")
    return "\n".join(lines)

