"""ssh-audit against each host's SSH server, from the controller."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from audit.targets import Target

SSH_AUDIT = str(Path(sys.executable).with_name("ssh-audit"))
# ssh-audit warns that classical key exchanges give no post-quantum protection. pyinfra's
# SSH client (paramiko) speaks no post-quantum one, and the deploy must keep reaching the
# hosts, so sshd offers these beside sntrup761x25519 (first choice for OpenSSH clients).
# This one note on these algorithms is accepted and shown as such; any other is not.
ACCEPTED = {"does not provide protection against post-quantum attacks":
            {"curve25519-sha256", "curve25519-sha256@libssh.org",
             "diffie-hellman-group16-sha512", "diffie-hellman-group18-sha512"}}


@dataclass
class SshAuditResult:
    """ssh-audit's failures and warnings on one SSH server."""

    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)  # warnings on the list above


def parse(report: dict) -> SshAuditResult:
    """Read ``ssh-audit -j``'s JSON: every algorithm's fail and warn notes, and CVEs."""
    result = SshAuditResult()
    for kind in ("kex", "key", "enc", "mac"):
        for algorithm in report.get(kind, []):
            name, notes = algorithm.get("algorithm", "?"), algorithm.get("notes", {})
            result.failures += [f"{kind} {name}: {note}" for note in notes.get("fail", [])]
            for note in notes.get("warn", []):
                (result.accepted if name in ACCEPTED.get(note, ()) else result.warnings).append(
                    f"{kind} {name}: {note}")
    result.failures += [f"{cve.get('name')}: {cve.get('description', '')}" for cve in report.get("cves", [])]
    return result


def run(target: Target, timeout: float = 60) -> SshAuditResult:
    """ssh-audit the target's SSH port.

    Raises RuntimeError when ssh-audit cannot reach the server or gives no report.
    """
    done = subprocess.run([SSH_AUDIT, "-j", "-p", str(target.ssh_port), target.address],
                          capture_output=True, text=True, timeout=timeout)
    try:
        report = json.loads(done.stdout)
    except ValueError:
        raise RuntimeError(f"{target.name}: ssh-audit gave no report (exit {done.returncode}): "
                           f"{(done.stderr or done.stdout).strip()[-300:]}") from None
    return parse(report)
