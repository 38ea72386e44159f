"""The load test's journeys walk the real reference portal (started on loopback by localstack),
alone and as a master with two workers, and the run ends with a verdict, a result and a report.
The lab's own load tests (tests/lab/test_deploy_loadtest.py) run them through nginx and the WAF."""

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from loadtests import driver
from loopback_portal.stack import Stack

pytestmark = pytest.mark.skipif(not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")),
                                reason="needs Debian's postgresql package (make setup)")
# Busier than Thanh Hóa so that a half-minute run holds a few visits of every journey.
VOLUME = ["--volume", "dossiers_per_day=30000"]
# What these tests check is that the journeys work and the results add up, on a portal that
# shares this machine with the tests: limits it meets even when the machine is busy. The lab
# tests gate on the project's own thresholds (loadtests/slo.toml).
GENEROUS = """
[throughput]
min_share = 0.95
[endpoints.default]
p95_ms = 30000
p99_ms = 30000
max_failure_ratio = 0.0
[journeys.default]
p95_ms = 60000
p99_ms = 60000
max_failure_ratio = 0.0
"""


@pytest.fixture(scope="module")
def portal_url():
    directory = Path(tempfile.mkdtemp(prefix="loadtest-portal-"))
    directory.chmod(0o755)  # PostgreSQL runs as its own user below this directory
    stack = Stack(directory, workers=2).start()
    try:
        yield stack.province.url
    finally:
        stack.stop()
        shutil.rmtree(directory, ignore_errors=True)


def run(portal_url, report_dir, workers=0, thresholds=GENEROUS):
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / "slo.toml").write_text(thresholds)
    options = ["--host", portal_url, "--load-profile", "smoke", "--duration", "30s", "--report-dir", str(report_dir),
               "--slo", str(report_dir / "slo.toml"), *VOLUME]
    code = driver.run(options, workers, timeout=240)
    return code, json.loads((report_dir / "result.json").read_text())


def test_a_smoke_run_walks_every_journey_and_passes(portal_url, tmp_path):
    code, result = run(portal_url, tmp_path)
    assert (code, result["verdict"]["result"]) == (0, "PASS"), result["verdict"]
    journeys = {e["name"]: e for e in result["entries"] if e["kind"] == "journey"}
    # No one-stop host without an inventory: the other four journeys ran, none failed.
    assert set(journeys) == {"catalogue", "applicant", "status_lookup", "officer"}
    assert all(j["requests"] > 0 and j["failures"] == 0 for j in journeys.values())
    assert result["journeys"]["applicant"]["started"] == result["journeys"]["applicant"]["planned"] > 0
    # The timeline's intervals hold every visit started, for the report's throughput plot.
    assert sum(s["started"].get("applicant", 0) for s in result["timeline"]) == result["journeys"]["applicant"]["started"]
    assert (tmp_path / "report.html").read_text().count("<svg") >= 3


def test_a_master_with_two_workers_gives_one_combined_result(portal_url, tmp_path):
    code, result = run(portal_url, tmp_path, workers=2)
    assert (code, result["generator"]["processes"]) == (0, 2), result["verdict"]
    planned = result["journeys"]["catalogue"]["planned"]
    # Every worker's users reported their visits to the master: the whole schedule is there.
    assert planned > 0 and result["journeys"]["catalogue"]["started"] == planned


def test_thresholds_the_portal_cannot_meet_fail_the_run_naming_the_endpoint(portal_url, tmp_path):
    strict = GENEROUS + '[endpoints."/api/officer/queue"]\np95_ms = 0\np99_ms = 0\nmax_failure_ratio = 0\n'
    code, result = run(portal_url, tmp_path, thresholds=strict)
    failed = {c["name"] for c in result["verdict"]["checks"] if not c["ok"]}
    assert (code, failed) == (1, {"GET /api/officer/queue"})


def test_a_run_without_a_target_says_what_is_missing():
    result = subprocess.run([str(driver.LOCUST), "-f", str(driver.LOCUSTFILE), "--headless"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2 and "--inventory" in result.stderr

