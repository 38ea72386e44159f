"""``portalops audit`` on the converged lab: every host meets the level 3 thresholds, and a
control that drifts fails the host that drifted, by name, until the deploy puts it back.

Runs on the session's converged lab, after test_deploy.py.
"""

import json

import pytest

from lab import settings
from lab.ssh import run_on
from tests.lab.province import ADDRESS, HOSTS, deploy, portalops, table

pytestmark = pytest.mark.lab


def audit(*args):
    result = portalops("audit", str(settings.INVENTORY_FILE), *args, timeout=1800)
    return result, table(result.stdout.split("\n\n")[0].split("\nLynis")[0])


@pytest.fixture(scope="module")
def full_audit(converged, tmp_path_factory):
    findings = tmp_path_factory.mktemp("audit") / "findings.json"
    result, _ = audit("--json", str(findings))
    return result, json.loads(findings.read_text())


def test_every_host_passes_every_threshold(full_audit):
    result, findings = full_audit
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    assert f"{len(HOSTS)} hosts audited, {len(HOSTS)} pass, 0 fail" in result.stdout
    by_host = {f["target"]["name"]: f for f in findings}
    assert sorted(by_host) == sorted(HOSTS)
    for name, found in by_host.items():
        assert found["lynis"]["hardening_index"] >= 85, (name, found["lynis"]["suggestions"])
        assert not found["ssh"]["failures"] and not found["ssh"]["warnings"]
        assert not found["controls"]["drifted"] and not found["errors"]
    web = [name for name, found in by_host.items() if found["tls"] is not None]
    assert sorted(web) == ["huyen-thanh-hoa", "portal-1", "xa-thanh-hoa-01"]
    assert all(not by_host[name]["tls"]["severe"] for name in web)


def test_the_container_skips_are_listed(full_audit):
    from deploy.defaults import AUDIT

    result, findings = full_audit
    skipped = {test for f in findings for test in f["lynis"]["skipped"]}
    assert skipped == set(AUDIT["lynis_container_skips"])  # the deploy's list, nothing else
    assert "Lynis tests skipped by the deploy's profile" in result.stdout
    assert all(test in result.stdout for test in skipped)


def test_a_drifted_control_fails_its_host_by_name_until_the_deploy_restores_it(full_audit):
    run_on(ADDRESS["db-1"], "sudo rm /etc/apt/apt.conf.d/20auto-upgrades")
    result, rows = audit("--check", "controls")
    assert result.returncode == 1
    assert rows["db-1"][-1] == "FAIL" and "base-07" in rows["db-1"][-2]
    assert all(rows[name][-1] == "pass" for name in HOSTS if name != "db-1")
    assert deploy("--limit", "db-1")[0].returncode == 0
    result, rows = audit("--check", "controls", "--limit", "db-1")
    assert result.returncode == 0 and rows["db-1"][-1] == "pass"


def test_an_unreachable_host_fails_the_audit_by_name(converged):
    import time

    # The controller goes into db-1's "blocked" set for half a minute (a timer takes it out).
    unblock = "nft delete element inet portalops blocked '{ 198.18.0.1 }'"
    run_on(ADDRESS["db-1"], f"sudo systemd-run --on-active=30 {unblock} && "
                            "sudo nft add element inet portalops blocked '{ 198.18.0.1 }'")
    try:
        result, rows = audit("--check", "ssh-audit", "--limit", "db-1", "--limit", "portal-1")
        assert result.returncode == 1 and rows["db-1"][-1] == "FAIL" and rows["portal-1"][-1] == "pass"
        assert "db-1 ssh-audit:" in result.stdout
    finally:
        deadline = time.monotonic() + 90
        while run_on(ADDRESS["db-1"], "true", timeout=10).returncode != 0 and time.monotonic() < deadline:
            time.sleep(3)
