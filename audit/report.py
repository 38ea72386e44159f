"""One verdict per host from the four checks, against the thresholds, and the tables to print."""

from __future__ import annotations

from dataclasses import dataclass, field

from audit.controls import ControlsResult
from audit.lynis import LynisResult
from audit.sshaudit import SshAuditResult
from audit.targets import Target
from audit.testssl import TlsResult

# Level 3 targets for every host (../shared/DOMAIN.md): what the audit holds each host to.
LYNIS_MIN_INDEX = 85
CHECKS = ("lynis", "ssh-audit", "tls", "controls")


@dataclass
class HostAudit:
    """Everything the audit learnt about one host."""

    target: Target
    lynis: LynisResult | None = None
    ssh: SshAuditResult | None = None
    tls: TlsResult | None = None
    controls: ControlsResult | None = None
    errors: dict[str, str] = field(default_factory=dict)  # check -> why it could not run

    def failures(self, lynis_min: int = LYNIS_MIN_INDEX) -> dict[str, str]:
        """Each check that did not pass on this host, with why."""
        bad = dict(self.errors)
        if self.lynis and self.lynis.hardening_index < lynis_min:
            bad["lynis"] = f"hardening index {self.lynis.hardening_index} < {lynis_min}"
        if self.ssh and (self.ssh.failures or self.ssh.warnings):
            bad["ssh-audit"] = "; ".join(self.ssh.failures + self.ssh.warnings)
        if self.tls and self.tls.severe:
            bad["tls"] = "; ".join(self.tls.severe)
        if self.controls and (self.controls.drifted or self.controls.problem):
            bad["controls"] = self.controls.problem or "drifted: " + ", ".join(sorted(self.controls.drifted))
        return bad

    def passed(self, lynis_min: int = LYNIS_MIN_INDEX) -> bool:
        return not self.failures(lynis_min)


def cells(audit: HostAudit, lynis_min: int = LYNIS_MIN_INDEX) -> list[str]:
    """The host's row: name, roles, one cell per check, verdict."""
    def lynis() -> str:
        if "lynis" in audit.errors or not audit.lynis:
            return "error" if "lynis" in audit.errors else "-"
        mark = "" if audit.lynis.hardening_index >= lynis_min else f" < {lynis_min}"
        return f"{audit.lynis.hardening_index}{mark} ({len(audit.lynis.skipped)} skipped)"

    def ssh() -> str:
        if "ssh-audit" in audit.errors or not audit.ssh:
            return "error" if "ssh-audit" in audit.errors else "-"
        if audit.ssh.failures or audit.ssh.warnings:
            return f"{len(audit.ssh.failures)} fail, {len(audit.ssh.warnings)} warn"
        return f"ok ({len(audit.ssh.accepted)} accepted)" if audit.ssh.accepted else "ok"

    def tls() -> str:
        if "tls" in audit.errors:
            return "error"
        if not audit.tls:
            return "-"
        return f"{len(audit.tls.severe)} HIGH+" if audit.tls.severe else f"ok ({len(audit.tls.medium)} medium)"

    def controls() -> str:
        if "controls" in audit.errors or not audit.controls:
            return "error" if "controls" in audit.errors else "-"
        if audit.controls.problem:
            return "failed"
        return f"drift: {', '.join(sorted(audit.controls.drifted))}" if audit.controls.drifted else "ok"

    return [audit.target.name, " ".join(audit.target.roles), lynis(), ssh(), tls(), controls(),
            "pass" if audit.passed(lynis_min) else "FAIL"]


HEADER = ["host", "roles", "lynis", "ssh-audit", "tls (testssl)", "controls", "verdict"]


def details(audits: list[HostAudit], lynis_min: int = LYNIS_MIN_INDEX) -> list[str]:
    """Lines explaining every failure, then what was skipped or accepted and why."""
    lines = []
    for audit in audits:
        for check, why in audit.failures(lynis_min).items():
            lines.append(f"{audit.target.name} {check}: {why}")
            if check == "lynis" and audit.lynis:
                lines += [f"    {s}" for s in audit.lynis.warnings + audit.lynis.suggestions]
    skipped = sorted({t for a in audits if a.lynis for t in a.lynis.skipped})
    if skipped:
        lines.append("Lynis tests skipped by the deploy's profile (cannot apply in a container): "
                     + ", ".join(skipped))
    accepted = sorted({w for a in audits if a.ssh for w in a.ssh.accepted})
    if accepted:
        lines.append("ssh-audit warnings accepted (pyinfra's client needs these key exchanges): "
                     + "; ".join(accepted))
    return lines
