"""Load tests on the lab: the province's journeys through nginx and the WAF of the deployed
portal, from the lab's citizen addresses, with the one-stop hosts syncing up.

- the smoke profile passes;
- a master with two workers gives one combined result;
- a portal made slow at the database (every online filing waits 4 s for its insert) fails the
  verdict, naming the filing endpoint and the applicant's journey, and nothing else.
"""

from __future__ import annotations

import json

import pytest

from lab import settings
from tests.lab.province import portalops, psql

pytestmark = pytest.mark.lab

INVENTORY = str(settings.INVENTORY_FILE)
# Thanh Hóa's volume, but 30 % of dossiers at the one-stop desks (5 % by default), so that a short
# run holds a few visits of the one-stop hosts' sync too.
DESKS = ["--volume", "online_share=0.7"]
SLOW_FILING = """
CREATE OR REPLACE FUNCTION portalops_test_slow_filing() RETURNS trigger LANGUAGE plpgsql AS
'BEGIN PERFORM pg_sleep(4); RETURN NEW; END';
CREATE TRIGGER portalops_test_slow_filing BEFORE INSERT ON dossiers FOR EACH ROW
    WHEN (NEW.channel = 2) EXECUTE FUNCTION portalops_test_slow_filing();
"""
FAST_FILING = "DROP TRIGGER IF EXISTS portalops_test_slow_filing ON dossiers; " \
              "DROP FUNCTION IF EXISTS portalops_test_slow_filing();"


def loadtest(report_dir, *options):
    """``portalops loadtest`` on the lab's smoke profile; its process and result.json."""
    result = portalops("loadtest", INVENTORY, "--profile", "smoke", "--duration", "90s",
                       "--report-dir", str(report_dir), *DESKS, *options, timeout=600)
    return result, json.loads((report_dir / "result.json").read_text())


def test_deploy_then_the_smoke_profile_passes_against_the_lab_portal(converged, tmp_path):
    result, outcome = loadtest(tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "SLO verdict: PASS" in result.stdout and f"Report: {tmp_path / 'report.html'}" in result.stdout
    journeys = {e["name"]: e for e in outcome["entries"] if e["kind"] == "journey"}
    assert set(journeys) == {"catalogue", "applicant", "status_lookup", "officer", "onestop_sync"}
    assert all(j["failures"] == 0 for j in journeys.values())
    # Users came from the lab's citizen addresses, so the per-address limits never answered 429.
    assert outcome["target"]["source_addresses"] == settings.LOAD_SOURCES.num_addresses - 2
    # The plan printed before the run: each journey's target and its users.
    assert "journey" in result.stdout and "visits/h" in result.stdout


def test_deploy_then_a_master_with_two_workers_gives_one_combined_result(converged, tmp_path):
    result, outcome = loadtest(tmp_path, "--workers", "2")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert outcome["generator"]["processes"] == 2
    for name, journey in outcome["journeys"].items():
        assert journey["started"] == journey["planned"] > 0, name


def test_deploy_then_a_portal_slow_at_the_database_fails_naming_the_filing(converged, tmp_path):
    psql("db-1", SLOW_FILING.replace("\n", " "), database="dichvucong")
    try:
        result, outcome = loadtest(tmp_path)
    finally:
        psql("db-1", FAST_FILING, database="dichvucong")
    assert result.returncode == 1, result.stdout[-3000:]
    failed = {(c["kind"], c["name"]) for c in outcome["verdict"]["checks"] if not c["ok"]}
    assert ("endpoint", "POST /api/dossiers (file)") in failed
    assert {name for _, name in failed} <= {"POST /api/dossiers (file)", "applicant"}
    assert "SLO verdict: FAIL" in result.stdout and "/api/dossiers (file)" in result.stdout
