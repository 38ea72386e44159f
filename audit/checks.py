"""Run the audit's checks on every host, concurrently, and gather one HostAudit per host."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from audit import controls, lynis, sshaudit, testssl
from audit.report import CHECKS, HostAudit
from audit.targets import targets

# Lynis runs on the hosts (their CPU); testssl.sh on the controller, a few at a time.
HOST_WORKERS = 8
TESTSSL_WORKERS = 3


def audit(inventory: str, limit: list[str] = (), checks: tuple[str, ...] = CHECKS,
          log: Callable[[str], None] = lambda line: None) -> list[HostAudit]:
    """Audit the inventory's hosts (restricted by ``limit``) with ``checks``; one result per host.

    A check that cannot run on a host (unreachable, tool error) is recorded as that
    host's error for the check, which fails its verdict: nothing is passed silently.
    """
    from deploy.tls import default_ca_dir

    audits = {t.name: HostAudit(t) for t in targets(inventory, limit)}
    if not audits:
        raise ValueError(f"no host of {inventory} matches {', '.join(limit) or 'the inventory'}")
    ca_file = default_ca_dir() / "ca.pem"

    def attempt(audit: HostAudit, check: str, work: Callable[[], object], attribute: str) -> None:
        try:
            setattr(audit, attribute, work())
            log(f"{audit.target.name}: {check} done")
        except Exception as error:  # noqa: BLE001 - any failure is this host's error for the check
            audit.errors[check] = str(error) or type(error).__name__
            log(f"{audit.target.name}: {check} could not run: {audit.errors[check]}")

    with ThreadPoolExecutor(HOST_WORKERS) as hosts, ThreadPoolExecutor(TESTSSL_WORKERS) as tls:
        jobs = []
        if "controls" in checks:
            jobs.append(hosts.submit(_controls, inventory, limit, audits, log))
        for audit_ in audits.values():
            if "lynis" in checks:
                jobs.append(hosts.submit(attempt, audit_, "lynis", lambda a=audit_: lynis.run(a.target), "lynis"))
            if "ssh-audit" in checks:
                jobs.append(hosts.submit(attempt, audit_, "ssh-audit", lambda a=audit_: sshaudit.run(a.target), "ssh"))
            if "tls" in checks and audit_.target.serves_web:
                jobs.append(tls.submit(attempt, audit_, "tls", lambda a=audit_: testssl.run(a.target, ca_file), "tls"))
        for job in jobs:
            job.result()
    return list(audits.values())


def _controls(inventory: str, limit: list[str], audits: dict[str, HostAudit], log) -> None:
    """The dry run for every host at once (pyinfra connects to them in parallel)."""
    try:
        found = controls.check(inventory, list(limit))
    except Exception as error:  # noqa: BLE001
        for audit_ in audits.values():
            audit_.errors["controls"] = f"the dry run failed: {error}"
        return
    for name, audit_ in audits.items():
        if name in found:
            audit_.controls = found[name]
        else:
            audit_.errors["controls"] = "not in the dry run's results"
    log("controls: dry run done")
