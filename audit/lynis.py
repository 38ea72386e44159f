"""Lynis, run on the host itself (the deploy installs it), read from its report file."""

from __future__ import annotations

from dataclasses import dataclass, field

from audit.remote import sudo
from deploy.integrity import LYNIS_PROFILE as PROFILE  # the deploy's: tests a container cannot pass
from audit.targets import Target

REPORT = "/var/log/lynis-report.dat"
# --quick: no pauses; the report file is the interface, the screen output is not.
COMMAND = (f"sh -c 'cd / && lynis audit system --quick --no-colour --report-file {REPORT} >/dev/null "
           f"&& cat {REPORT} && grep -h ^skip-test= {PROFILE} 2>/dev/null; true'")


@dataclass
class LynisResult:
    """What one Lynis run found on a host."""

    hardening_index: int
    warnings: list[str] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # tests the deploy's profile skips
    tests_run: int = 0


def parse_report(text: str) -> LynisResult:
    """Read Lynis's report (``key=value`` and ``key[]=value`` lines).

    Raises ValueError when the report has no hardening index (Lynis did not finish).
    """
    values: dict[str, str] = {}
    lists: dict[str, list[str]] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if not sep or line.startswith("#"):
            continue
        if key.endswith("[]"):
            lists.setdefault(key[:-2], []).append(value)
        elif key == "skip-test":  # the profile's lines, appended after the report
            values[key] = "|".join(filter(None, [values.get(key, ""), value]))
        else:
            values[key] = value
    if not values.get("hardening_index", "").isdigit():
        raise ValueError("the Lynis report has no hardening index: Lynis did not finish")
    return LynisResult(
        hardening_index=int(values["hardening_index"]),
        warnings=[_finding(v) for v in lists.get("warning", [])],
        suggestions=[_finding(v) for v in lists.get("suggestion", [])],
        skipped=sorted(set(values.get("skip-test", "").split("|")) - {""}),
        tests_run=len([t for t in values.get("tests_executed", "").split("|") if t]))


def _finding(value: str) -> str:
    """``TEST-ID|text|details|...`` as ``TEST-ID: text (details)``."""
    parts = value.split("|")
    details = parts[2] if len(parts) > 2 and parts[2] not in ("-", "") else ""
    return f"{parts[0]}: {parts[1] if len(parts) > 1 else ''}" + (f" ({details})" if details else "")


def run(target: Target) -> LynisResult:
    """Run Lynis on the target and read its report."""
    return parse_report(sudo(target, COMMAND, timeout=900))
