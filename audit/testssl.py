"""testssl.sh (Debian's) against each web host's HTTPS, from the controller."""

from __future__ import annotations

import json
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from audit.targets import Target

TESTSSL = "testssl"
SEVERE = ("HIGH", "CRITICAL")


@dataclass
class TlsResult:
    """testssl.sh's findings on one HTTPS server, by severity."""

    severe: list[str] = field(default_factory=list)  # HIGH and CRITICAL
    medium: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def parse(findings: list[dict]) -> TlsResult:
    """Read testssl.sh's ``--jsonfile`` (a flat list of findings)."""
    result = TlsResult()
    for finding in findings:
        severity = finding.get("severity", "INFO")
        result.counts[severity] = result.counts.get(severity, 0) + 1
        text = f"{finding.get('id')}: {finding.get('finding', '')}"
        if severity in SEVERE:
            result.severe.append(f"{severity} {text}")
        elif severity == "MEDIUM":
            result.medium.append(text)
    return result


def run(target: Target, ca_file: Path | None, port: int = 443, timeout: float = 600) -> TlsResult:
    """testssl.sh the target's HTTPS port, trusting ``ca_file`` (the deploy's CA) as well.

    Raises RuntimeError when testssl.sh gives no findings (the server is down, say).
    """
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "findings.json"
        argv = [TESTSSL, "--quiet", "--color", "0", "--warnings", "off", "--ip", "one", "--jsonfile", str(out),
                *(["--add-ca", str(ca_file)] if ca_file and ca_file.exists() else []), f"{target.address}:{port}"]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        try:
            findings = json.loads(out.read_text())
        except (OSError, ValueError):
            raise RuntimeError(f"{target.name}: testssl.sh gave no findings (exit {done.returncode}): "
                               f"{(done.stderr or done.stdout).strip()[-300:]}") from None
    if any(f.get("id") == "scanProblem" and f.get("severity") == "FATAL" for f in findings):
        raise RuntimeError(f"{target.name}: testssl.sh could not scan {target.address}:{port}")
    return parse(findings)
