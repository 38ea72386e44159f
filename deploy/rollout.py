"""Roll a deploy out over an inventory with pyinfra and say, per host, what it did.

``portalops deploy`` is plain pyinfra (``pyinfra -y INVENTORY deploy/site.py``)
with its human log on standard error and its JSON results read back, so that
the summary names every host that changed, failed, or could not be reached.

``portalops deploy --batch`` rolls out in waves instead: a canary host first, then the other
hosts a batch at a time, each wave a pyinfra run of its own, stopping after a wave with more
failed or unreachable hosts than allowed (:func:`rollout`).
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from deploy.release import exporters_release, portal_release
from inventory.entries import PYINFRA, inventory_entries, inventory_hosts
from inventory.roles import ONESTOP_HOSTS

SITE = Path(__file__).with_name("site.py")
RESTORE = Path(__file__).with_name("restore.py")
NATIONAL_SITE = Path(__file__).with_name("national_site.py")  # the lab's national-service stand-ins
CONFIG = Path(__file__).with_name("config.py")
# pyinfra's log lines this summary reads: a host it could not reach, the operation it
# starts, a host on which that operation failed.
UNREACHABLE = re.compile(r"^\s*\[(?P<host>[^\]]+)\]\s+Could not connect \((?P<why>.*)\)")
STARTING = re.compile(r"^--> Starting operation: (?P<op>.*?)\s*$")
FAILED = re.compile(r"^\s*\[(?P<host>[^\]]+)\]\s+Error\b")
# A rollout's batch: a number of hosts per wave ("10") or a share of the targeted hosts ("10%").
BATCH = re.compile(r"^\s*(?P<count>\d+)\s*(?P<percent>%?)\s*$")


@dataclass
class HostOutcome:
    """What the deploy did on one host."""

    name: str
    changed: int = 0
    unchanged: int = 0
    failed: list[str] = field(default_factory=list)
    unreachable: str = ""  # why pyinfra could not connect, if it could not
    drifted: list[str] = field(default_factory=list)  # a dry run: the operations that would change

    @property
    def state(self) -> str:
        """One word for the summary: unreachable, failed, changed or unchanged."""
        if self.unreachable:
            return "unreachable"
        if self.failed:
            return "failed"
        return "changed" if self.changed else "unchanged"


def summarise(hosts: list[str], output: dict, log: "LogFindings", dry: bool) -> list[HostOutcome]:
    """Per-host outcomes from pyinfra's JSON (its results, or the plan of a dry run) and its log."""
    outcomes = {name: HostOutcome(name) for name in hosts}
    for name in set(log.unreachable) | set(log.failed) | _hosts_in(output):
        outcomes.setdefault(name, HostOutcome(name))  # a host the limit matched that we did not
    for name, outcome in outcomes.items():
        outcome.unreachable = log.unreachable.get(name, "")
        outcome.failed = list(log.failed.get(name, []))
    if dry:
        # Operations that run only if an earlier one changes something ("conditional")
        # are not counted: the earlier one already is.
        for op in output.get("plan", []):
            for name in op.get("hosts_with_change", []):
                outcomes[name].changed += 1
                outcomes[name].drifted.append(op.get("name", "?"))
        return list(outcomes.values())
    for op in (output.get("results") or {}).get("operations", []):
        for name in op.get("success", []):
            outcomes[name].changed += 1
        for name in op.get("no_change", []):
            outcomes[name].unchanged += 1
        for name in op.get("error", []):
            if op["name"] not in outcomes[name].failed:
                outcomes[name].failed.append(op["name"])
    return list(outcomes.values())


def _hosts_in(output: dict) -> set[str]:
    names = set()
    for op in output.get("plan", []):
        names.update(op.get("hosts_with_change", []), op.get("hosts_with_conditional_change", []))
    for op in (output.get("results") or {}).get("operations", []):
        names.update(op.get("success", []), op.get("no_change", []), op.get("error", []))
    return names


@dataclass
class LogFindings:
    """What pyinfra's log says per host: why it was unreachable, which operations failed."""

    unreachable: dict[str, str] = field(default_factory=dict)
    failed: dict[str, list[str]] = field(default_factory=dict)
    operation: str = ""

    def read(self, line: str) -> None:
        """Take one log line into account."""
        if match := STARTING.match(line):
            self.operation = match["op"]
        elif match := UNREACHABLE.match(line):
            self.unreachable[match["host"]] = match["why"]
        elif (match := FAILED.match(line)) and self.operation:
            ops = self.failed.setdefault(match["host"], [])
            if self.operation not in ops:
                ops.append(self.operation)


def deploy(inventory: str, limit: list[str] = (), dry: bool = False, diff: bool = False,
           data: list[str] = (), script: Path = SITE, echo: bool = True) -> list[HostOutcome]:
    """Run deploy/site.py (or another deploy ``script``) on the inventory's hosts; pyinfra's
    log goes to standard error.

    + inventory: a pyinfra inventory file
    + limit: host or group names to restrict to
    + dry, diff: pyinfra's --dry and --diff
    + data: ``key=value`` overrides for every host (values parsed as JSON where they are)
    + script: the pyinfra deploy file to run
    + echo: pass pyinfra's log through to standard error
    """
    inventory = _resolved(inventory)
    hosts = inventory_hosts(inventory, list(limit))
    if script in (SITE, NATIONAL_SITE):
        build_releases()
    return run_pyinfra(inventory, hosts, limit, dry, diff, data, script, echo)


def build_releases() -> None:
    """Build the portal's and the exporters' releases, once, before pyinfra prepares hosts in parallel."""
    portal_release()
    exporters_release()


def _resolved(inventory: str) -> str:
    return str(Path(inventory).resolve()) if Path(inventory).exists() else inventory


def run_pyinfra(inventory: str, hosts: list[str], limit: Iterable[str] = (), dry: bool = False,
                diff: bool = False, data: Iterable[str] = (), script: Path = SITE,
                echo: bool = True) -> list[HostOutcome]:
    """One pyinfra run of ``script`` over the inventory's hosts that ``limit`` selects; the
    outcome of each of ``hosts`` (the hosts the limit selects) and of any other host pyinfra
    names. Releases are not built here (see :func:`build_releases`).

    + inventory: a pyinfra inventory file
    + hosts: the names of the hosts ``limit`` selects, in inventory order
    + limit: host or group names to restrict to (pyinfra's --limit)
    + dry, diff, data, script, echo: as for :func:`deploy`
    """
    # With -y pyinfra skips change detection, so a dry run goes without it.
    argv = [PYINFRA, "--json", "--config", str(CONFIG), *(["--dry"] if dry else ["-y"]), *(["--diff"] if diff else []),
            *[a for l in limit for a in ("--limit", l)], *[a for d in data for a in ("--data", d)],
            inventory, str(script)]
    log = LogFindings()
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                          text=True, cwd="/") as run:
        # pyinfra's log passes through as it comes; the JSON on stdout is read at the end.
        stdout_reader = _Reader(run.stdout)
        for line in run.stderr:
            if echo:
                sys.stderr.write(line)
            log.read(line)
        stdout = stdout_reader.text()
    try:
        output = json.loads(stdout) if stdout.strip() else {}
    except json.JSONDecodeError:
        output = {}
    outcomes = summarise(hosts, output, log, dry)
    if run.returncode and not any(o.failed or o.unreachable for o in outcomes):
        # pyinfra stopped without saying on which host (a crash in the deploy code): no
        # host may be reported as fine.
        for outcome in outcomes:
            outcome.failed.append(f"pyinfra stopped (exit {run.returncode}); see its log above")
    return outcomes


class _Reader:
    """Reads a pipe to its end in a thread, so neither of two pipes blocks the other."""

    def __init__(self, pipe):
        self.chunks: list[str] = []
        self.thread = threading.Thread(target=lambda: self.chunks.append(pipe.read()), daemon=True)
        self.thread.start()

    def text(self) -> str:
        self.thread.join()
        return "".join(self.chunks)


# --- rolling out in waves ----------------------------------------------------------------------
#
# Each wave is a pyinfra run of its own, restricted to the wave's hosts with pyinfra's --limit,
# so the rollout can stop between two waves with every host either fully deployed or untouched.
# pyinfra's own knobs do not give that: --parallel bounds how many hosts one run works on at
# once, but each run still takes every host it targets through every operation; FAIL_PERCENT
# (--fail-percent) aborts a run in the middle of its operations, leaving the hosts that were
# fine half-deployed (a release installed but not switched to), and counts a share, not hosts.
# Neither is used: pyinfra keeps its defaults (every host of the wave at once; a failed host
# does not stop the others).


class RolloutError(ValueError):
    """A rollout that cannot be planned (a bad batch, a canary that is not a targeted host)."""


@dataclass
class Wave:
    """One pyinfra run of a rollout: the hosts it targets and, once it ran, what each got."""

    name: str  # "canary", "wave 1", ...
    hosts: list[str]
    canary: bool = False
    outcomes: list[HostOutcome] = field(default_factory=list)

    @property
    def bad(self) -> list[HostOutcome]:
        """The outcomes of its hosts that failed or could not be reached."""
        return [o for o in self.outcomes if o.state in ("failed", "unreachable")]


@dataclass
class Rollout:
    """What a rollout did: the waves that ran, each with its hosts' outcomes; the waves it did
    not run because it stopped; and why it stopped ("" when every wave ran)."""

    ran: list[Wave]
    not_run: list[Wave] = field(default_factory=list)
    stopped: str = ""

    @property
    def untouched(self) -> list[str]:
        """The hosts the rollout never ran on, in the order it would have."""
        return [name for wave in self.not_run for name in wave.hosts]

    @property
    def outcomes(self) -> list[HostOutcome]:
        """Every outcome of every wave that ran."""
        return [outcome for wave in self.ran for outcome in wave.outcomes]


def wave_size(batch: str, targeted: int) -> int:
    """Hosts per wave for ``batch``: a number of hosts ("10") or a share of the ``targeted``
    hosts, rounded up ("10%": 18 of 171); at least one.

    Example: ``wave_size("10%", 171)`` is 18
    """
    match = BATCH.match(str(batch))
    if not match or int(match["count"]) < 1 or (match["percent"] and int(match["count"]) > 100):
        raise RolloutError(f"--batch {batch!r}: give a number of hosts (10) or a share of them from 1% to 100% (10%)")
    count = int(match["count"])
    return max(1, math.ceil(count * targeted / 100)) if match["percent"] else count


def plan_waves(entries: list[dict], batch: str, canary: str | None = None) -> list[Wave]:
    """The waves of a rollout over the targeted hosts ``entries`` (as inventory_entries gives
    them, in inventory order): the canary alone, then the others in inventory order, ``batch``
    at a time (see :func:`wave_size`).

    + entries: the targeted hosts, each with ``name``, ``groups`` and ``data`` (its ``roles``)
    + batch: hosts per wave, "10" or "10%"
    + canary: the canary's name (default: the first one-stop host, else the first host)

    Example: ``plan_waves(inventory_entries("province.py", ["commune"]), "10%")``
    """
    names = [entry["name"] for entry in entries]
    if not names:
        raise RolloutError("no host to roll out to (does --limit match any host of the inventory?)")
    size = wave_size(batch, len(names))
    if canary is None:
        onestop = [e["name"] for e in entries if ONESTOP_HOSTS.matches(e.get("data", {}).get("roles") or [])]
        canary = (onestop or names)[0]
    elif canary not in names:
        raise RolloutError(f"--canary {canary}: not one of the {len(names)} targeted hosts"
                           f" ({', '.join(names[:5])}{', ...' if len(names) > 5 else ''})")
    groups = {group for entry in entries for group in entry.get("groups", [])}
    if clashes := sorted(groups.intersection(names)):
        # pyinfra's --limit takes a group before a host of the same name: the wave would grow.
        raise RolloutError(f"host {clashes[0]} has a group's name, so --limit {clashes[0]} cannot target it alone")
    others = [name for name in names if name != canary]
    return [Wave("canary", [canary], canary=True)] + [
        Wave(f"wave {number}", others[start:start + size])
        for number, start in enumerate(range(0, len(others), size), start=1)]


def run_waves(waves: list[Wave], run: Callable[[list[str]], list[HostOutcome]], max_fail: int = 0,
              on_wave: Callable[[Wave], None] | None = None) -> Rollout:
    """Run ``waves`` one after the other with ``run`` (a pyinfra run over the hosts it is
    given), and stop after the canary if it failed or was unreachable, or after any wave with
    more than ``max_fail`` failed or unreachable hosts.

    + waves: as :func:`plan_waves` plans them
    + run: takes a wave's host names, returns their outcomes
    + max_fail: failed plus unreachable hosts a wave may have and the rollout still go on
    + on_wave: called with each wave once it ran (to print it as the rollout goes)
    """
    if max_fail < 0:
        raise RolloutError(f"--max-fail {max_fail}: give 0 or more hosts")
    for index, wave in enumerate(waves):
        wave.outcomes = run(wave.hosts)
        if on_wave:
            on_wave(wave)
        bad = wave.bad
        if wave.canary and bad:
            stopped = f"the canary {bad[0].name} {'was unreachable' if bad[0].unreachable else 'failed'}"
        elif len(bad) > max_fail:
            stopped = (f"{wave.name} had {len(bad)} failed or unreachable host{'s' if len(bad) != 1 else ''},"
                       f" more than the {max_fail} allowed (--max-fail)")
        else:
            continue
        return Rollout(waves[:index + 1], waves[index + 1:], stopped)
    return Rollout(waves)


def rollout(inventory: str, batch: str, limit: list[str] = (), canary: str | None = None, max_fail: int = 0,
            dry: bool = False, diff: bool = False, data: list[str] = (), echo: bool = True,
            on_wave: Callable[[Wave], None] | None = None) -> Rollout:
    """Deploy deploy/site.py to the inventory's hosts in waves: a canary, then ``batch`` hosts at
    a time, each wave one pyinfra run (see the comment above ``RolloutError``), stopping as
    :func:`run_waves` says. The releases are built once, before the first wave.

    + inventory: a pyinfra inventory file
    + batch: hosts per wave, "10" or "10%" of the targeted hosts
    + limit: host or group names to restrict to, before the waves are planned
    + canary: the host that goes first, alone (default: the first one-stop host targeted)
    + max_fail: failed plus unreachable hosts a wave may have and the rollout go on
    + dry, diff, data, echo: as for :func:`deploy`
    + on_wave: called with each wave once it ran

    Example: ``rollout("province.py", "10%", limit=["commune"], max_fail=2)``
    """
    inventory = _resolved(inventory)
    waves = plan_waves(inventory_entries(inventory, list(limit)), batch, canary)
    build_releases()
    return run_waves(waves, lambda hosts: run_pyinfra(inventory, hosts, hosts, dry, diff, data, SITE, echo),
                     max_fail, on_wave)
