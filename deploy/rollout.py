"""Roll a deploy out over an inventory with pyinfra and say, per host, what it did.

``portalops deploy`` is plain pyinfra (``pyinfra -y INVENTORY deploy/site.py``)
with its human log on standard error and its JSON results read back, so that
the summary names every host that changed, failed, or could not be reached.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from deploy.release import exporters_release, portal_release
from inventory.entries import PYINFRA, inventory_hosts

SITE = Path(__file__).with_name("site.py")
RESTORE = Path(__file__).with_name("restore.py")
CONFIG = Path(__file__).with_name("config.py")
# pyinfra's log lines this summary reads: a host it could not reach, the operation it
# starts, a host on which that operation failed.
UNREACHABLE = re.compile(r"^\s*\[(?P<host>[^\]]+)\]\s+Could not connect \((?P<why>.*)\)")
STARTING = re.compile(r"^--> Starting operation: (?P<op>.*?)\s*$")
FAILED = re.compile(r"^\s*\[(?P<host>[^\]]+)\]\s+Error\b")


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
    inventory = str(Path(inventory).resolve()) if Path(inventory).exists() else inventory
    hosts = inventory_hosts(inventory, list(limit))
    if script == SITE:
        # built once here, before pyinfra prepares hosts in parallel
        portal_release()
        exporters_release()
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
