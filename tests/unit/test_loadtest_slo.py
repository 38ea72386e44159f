"""The SLO verdict: thresholds from one file, applied per journey and per endpoint, throughput
against the schedule, and runs that prove nothing marked invalid."""

import pytest

from loadtests import slo
from loadtests.slo import Entry, Outcome

THRESHOLDS = """
[throughput]
min_share = 0.95

[endpoints.default]
p95_ms = 800
p99_ms = 1000
max_failure_ratio = 0.01

[endpoints."/api/dossiers (file)"]
p95_ms = 3000
p99_ms = 5000
max_failure_ratio = 0.01

[journeys.default]
p95_ms = 3000
p99_ms = 5000
max_failure_ratio = 0.02
"""


@pytest.fixture
def thresholds(tmp_path):
    path = tmp_path / "slo.toml"
    path.write_text(THRESHOLDS)
    return slo.load(path)


def endpoint(name, p95=100, p99=200, requests=100, failures=0, method="GET"):
    return Entry("endpoint", name, method, requests, failures, p95 / 2, p95, p99, p99 * 2)


def journey(name, p95=1000, requests=50, failures=0):
    return Entry("journey", name, "", requests, failures, p95 / 2, p95, p95, p95)


def healthy(**changes):
    entries = [endpoint("/api/dossiers/[code]"), endpoint("/api/dossiers (file)", 2000, 4000, method="POST"),
               journey("applicant"), journey("status_lookup")]
    values = dict(entries=tuple(entries), planned={"applicant": 100, "status_lookup": 300},
                  started={"applicant": 99, "status_lookup": 300})
    return Outcome(**{**values, **changes})


def test_a_healthy_run_passes(thresholds):
    verdict = slo.verdict(healthy(), thresholds)
    assert verdict.code == slo.PASS and verdict.failed == ()
    # Three checks per entry and one per journey's throughput.
    assert len(verdict.checks) == 4 * 3 + 2


def test_a_slow_endpoint_fails_the_run_and_is_named(thresholds):
    slow = healthy(entries=(endpoint("/api/dossiers/[code]", p95=900, p99=950),) + healthy().entries[1:])
    verdict = slo.verdict(slow, thresholds)
    assert verdict.code == slo.FAIL
    assert [(c.name, c.measure) for c in verdict.failed] == [("GET /api/dossiers/[code]", "p95")]


def test_an_endpoint_override_applies_to_that_endpoint_only(thresholds):
    # 2 s at the 95th is within the upload's 3 s but not the default 800 ms.
    upload_ok = slo.verdict(healthy(), thresholds)
    lookup_slow = slo.verdict(healthy(entries=(endpoint("/api/dossiers/[code]", 2000, 4000),)), thresholds)
    assert upload_ok.code == slo.PASS and lookup_slow.code == slo.FAIL


def test_failures_over_the_ratio_fail_the_run(thresholds):
    failing = healthy(entries=(endpoint("/api/dossiers/[code]", requests=100, failures=2),))
    [failed] = slo.verdict(failing, thresholds).failed
    assert (failed.measure, failed.value) == ("failures", "2.0% (2/100)")


def test_a_journey_slower_than_its_limit_fails(thresholds):
    verdict = slo.verdict(healthy(entries=(journey("applicant", p95=4000),)), thresholds)
    assert [(c.kind, c.name) for c in verdict.failed] == [("journey", "applicant")]


def test_a_run_that_could_not_start_its_visits_fails_on_throughput(thresholds):
    behind = healthy(started={"applicant": 94, "status_lookup": 300})
    [failed] = slo.verdict(behind, thresholds).failed
    assert (failed.kind, failed.name, failed.value) == ("throughput", "applicant", "94.0% (94/100)")


def test_a_journey_that_never_started_fails_on_throughput(thresholds):
    verdict = slo.verdict(healthy(started={"status_lookup": 300}), thresholds)
    assert [(c.kind, c.name) for c in verdict.failed] == [("throughput", "applicant")]


def test_an_overloaded_generator_makes_the_run_invalid_even_if_every_check_passes(thresholds):
    verdict = slo.verdict(healthy(generator_overloaded=True), thresholds)
    assert verdict.code == slo.INVALID and verdict.failed == () and "CPU" in verdict.invalid[0]


def test_a_run_that_sent_nothing_is_invalid(thresholds):
    assert slo.verdict(Outcome((), {}, {}), thresholds).code == slo.INVALID


def test_the_projects_thresholds_file_loads():
    loaded = slo.load()
    assert loaded.min_share == 0.95 and loaded.limits("endpoint", "anything")["p99_ms"] == 1000


@pytest.mark.parametrize("text, problem", [
    ("[throughput]\n", "min_share"),
    ("[throughput]\nmin_share = 2\n", "min_share must be in"),
    (THRESHOLDS.replace("p99_ms = 1000\n", ""), "endpoints.default"),
    (THRESHOLDS + '[journeys.applicant]\np90_ms = 1\n', "unknown limit"),
    (THRESHOLDS + '[journeys.applicant]\np95_ms = "fast"\n', "must be a number"),
    ("min_share = [", "slo.toml"),
])
def test_a_malformed_thresholds_file_is_named(tmp_path, text, problem):
    path = tmp_path / "slo.toml"
    path.write_text(text)
    with pytest.raises(slo.SLOConfigError, match=problem):
        slo.load(path)
