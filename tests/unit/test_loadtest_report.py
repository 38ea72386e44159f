"""The load test's report: one self-contained HTML page with the verdict, what failed, three
inline SVG plots and the run's tables, escaped, and still readable when the run sent nothing."""

import math
import re

import pytest

from loadtests import report

SPIKE_PHASES = [[60.0, 1.0], [180.0, 3.0], [300.0, 1.0]]
FLAT_PHASES = [[300.0, 1.0]]
FAILED_CHECK = "/api/dossiers (file)"
HOSTILE_ERROR = 'status 502 <script>alert("x")</script>'
INTERVAL = 25.0
ENDPOINTS = (("GET", "/api/procedures"), ("GET", "/api/dossiers/[code]"), ("POST", FAILED_CHECK))


def synthetic_result(phases=FLAT_PHASES, verdict="FAIL") -> dict:
    """A 300 s run: two journeys, three endpoints, a 12-interval timeline, one failed check, one error."""
    checks = [
        {"kind": "endpoint", "name": "/api/procedures", "measure": "p95_ms", "limit": "800", "value": "120",
         "ok": True},
        {"kind": "endpoint", "name": FAILED_CHECK, "measure": "p95_ms", "limit": "3000", "value": "4100", "ok": False},
        {"kind": "throughput", "name": "applicant", "measure": "started share", "limit": "95 %", "value": "99 %",
         "ok": True},
    ]
    timeline = []
    for index in range(12):
        entries = {f"endpoint|{method}|{name}": {"requests": 10 + index, "failures": int(method == "POST"),
                                                 "p50_ms": 30.0 + index, "p95_ms": 80.0 + 10 * index,
                                                 "p99_ms": 150.0 + 10 * index}
                   for method, name in ENDPOINTS}
        for journey, visits in (("applicant", 9), ("catalogue", 25)):
            entries[f"journey|JOURNEY|{journey}"] = {"requests": visits, "failures": 0, "p50_ms": 9000.0,
                                                     "p95_ms": 12000.0, "p99_ms": 14000.0}
        timeline.append({"t": INTERVAL * (index + 1), "users": 40, "entries": entries})
    return {
        "verdict": {"result": verdict, "code": {"PASS": 0, "FAIL": 1}[verdict], "invalid": [], "checks": checks},
        "profile": {"name": "spike", "duration": 300.0, "spike_factor": 3.0, "phases": phases},
        "volume": {"dossiers_per_day": 7000, "peak_hour_share": 0.2, "online_share": 0.95},
        "target": {"base_url": "https://198.18.0.10", "units": 3},
        "journeys": {
            "applicant": {"rate_per_second": 0.369, "users": 12, "visit_seconds": 16.5,
                          "summary": "1,330 visits/h x 16 s", "planned": 110, "started": 108, "late": 3},
            "catalogue": {"rate_per_second": 1.0, "users": 15, "visit_seconds": 8.0,
                          "summary": "Tra cứu thủ tục hành chính", "planned": 300, "started": 300, "late": 0},
        },
        "entries": [
            {"kind": "endpoint", "name": name, "method": method, "requests": 246,
             "failures": 12 if method == "POST" else 0, "p50_ms": 35.0, "p95_ms": 4100.0 if method == "POST" else 120.0, "p99_ms": 5000.0, "max_ms": 7000.0}
            for method, name in ENDPOINTS
        ] + [{"kind": "journey", "name": "applicant", "method": "", "requests": 108, "failures": 0,
              "p50_ms": 9000.0, "p95_ms": 12000.0, "p99_ms": 14000.0, "max_ms": 15000.0}],
        "timeline": timeline,
        "errors": [{"method": "POST", "name": FAILED_CHECK, "error": HOSTILE_ERROR, "occurrences": 12}],
        "started_at": "2026-11-27T09:00:00+00:00",
        "ended_at": "2026-11-27T09:05:00+00:00",
        "generator": {"processes": 1, "cpu_overloaded": False},
    }


def empty_run() -> dict:
    """An invalid run that sent nothing: no timeline, no entries, no errors key."""
    result = synthetic_result()
    result["verdict"] = {"result": "INVALID", "code": 2, "invalid": ["the run sent no requests"], "checks": []}
    result["timeline"], result["entries"] = [], []
    del result["errors"]
    return result


def inner(page: str, tag: str, element_id: str) -> str:
    """What the element ``<tag id=element_id>`` holds (the page's elements of one tag never nest)."""
    found = re.search(rf'<{tag} id="{element_id}"[^>]*>(.*?)</{tag}>', page, re.S)
    assert found, f"no <{tag} id={element_id!r}> in the page"
    return found.group(1)


def target_levels(page: str, journey: str) -> set[float]:
    """The heights (SVG y coordinates) the journey's dashed target line takes."""
    group = re.search(rf'<g id="throughput-target-{journey}">.*?<path d="([^"]*)"', page, re.S)
    assert group, f"no target line for {journey}"
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", group.group(1))]
    return {round(y, 1) for y in numbers[1::2]}


@pytest.fixture(scope="module")
def page() -> str:
    """The synthetic run's report (rendered once: drawing takes a while)."""
    return report.render(synthetic_result())


def test_write_puts_report_html_in_the_directory_and_returns_its_path(tmp_path):
    path = report.write(synthetic_result(), tmp_path)
    assert path == tmp_path / "report.html"
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page
    assert "Tra cứu thủ tục hành chính" in page


def test_the_header_names_the_profile_and_target_and_shows_the_verdict_word(page):
    assert "Load test: spike against https://198.18.0.10" in page
    assert inner(page, "span", "verdict") == "FAIL"
    assert inner(report.render(synthetic_result(verdict="PASS")), "span", "verdict") == "PASS"
    assert "5 min 0 s" in page


def test_each_plot_is_an_inline_svg_in_its_own_figure_with_a_caption(page):
    for figure in ("latency", "throughput", "errors"):
        content = inner(page, "figure", figure)
        assert "<svg" in content and "<figcaption>" in content
    assert "<?xml" not in page and "<!DOCTYPE svg" not in page


def test_the_page_loads_nothing_from_elsewhere(page):
    assert not re.search(r"<script|<link|<img|@import|url\((?!#)", page, re.I)
    assert not re.search(r'(src|href)="(?!#)', page)


def test_the_failed_check_is_in_what_failed_and_the_passed_ones_only_in_all_checks(page):
    section = inner(page, "section", "what-failed")
    failed, everything = section.split("<details>")
    assert FAILED_CHECK in failed and '<tr class="fail">' in failed
    assert "/api/procedures" not in failed and "/api/procedures" in everything


def test_a_run_whose_checks_all_passed_says_so():
    result = synthetic_result(verdict="PASS")
    for check in result["verdict"]["checks"]:
        check["ok"] = True
    assert "Every check passed." in inner(report.render(result), "section", "what-failed")


def test_error_messages_and_names_from_the_result_are_escaped():
    result = synthetic_result()
    result["entries"][2]["name"] = "/api/<b>dossiers</b>"  # failed: its name is in the failures plot too
    result["journeys"]["<i>walk-in</i>"] = {"rate_per_second": 0.1, "users": 1, "summary": "<u>desk</u>"}
    page = report.render(result)
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in inner(page, "section", "error-messages")
    assert "&lt;u&gt;desk&lt;/u&gt;" in inner(page, "section", "journeys")
    assert not re.search(r"<(script|b|i|u)>", page)


def test_the_target_line_steps_up_and_down_with_a_spike_profile(page):
    flat = page
    spike = report.render(synthetic_result(SPIKE_PHASES))
    assert len(target_levels(flat, "applicant")) == 1
    assert len(target_levels(spike, "applicant")) == 2
    assert inner(flat, "figure", "throughput") != inner(spike, "figure", "throughput")


def test_the_same_result_makes_the_same_report(page):
    assert report.render(synthetic_result()) == page


def test_achieved_visits_per_second_divide_by_each_intervals_length_the_first_from_zero():
    result = synthetic_result()
    result["timeline"] = [{"t": 5.0, "users": 1, "entries": {"journey|JOURNEY|applicant": {"requests": 10}}},
                          {"t": 15.0, "users": 1, "entries": {"journey|JOURNEY|applicant": {"requests": 10}}},
                          {"t": 15.0, "users": 1, "entries": {}}]
    rates = [report.visits_per_second(interval, "applicant") for interval in report.timeline(result)]
    assert rates[:2] == [2.0, 1.0] and math.isnan(rates[2])


def test_achieved_visits_per_second_count_the_visits_started_where_the_timeline_has_them():
    # The target counts visits as they start; visits that end in the interval trail it by a visit's length.
    result = synthetic_result()
    result["timeline"] = [{"t": 10.0, "users": 1, "started": {"applicant": 30},
                           "entries": {"journey|JOURNEY|applicant": {"requests": 10}}}]
    assert [report.visits_per_second(i, "applicant") for i in report.timeline(result)] == [3.0]


def test_endpoints_combine_into_the_highest_tail_and_a_request_weighted_median():
    entries = {"endpoint|GET|/a": {"requests": 30, "p50_ms": 10.0, "p95_ms": 50.0, "p99_ms": 90.0},
               "endpoint|GET|/b": {"requests": 10, "p50_ms": 50.0, "p95_ms": 70.0, "p99_ms": 80.0},
               "endpoint|GET|/idle": {"requests": 0, "p50_ms": 0.0, "p95_ms": 999.0, "p99_ms": 999.0},
               "journey|JOURNEY|applicant": {"requests": 5, "p50_ms": 9000.0, "p95_ms": 9000.0, "p99_ms": 9000.0}}
    assert report.endpoint_latency(entries, "p50_ms") == 20.0
    assert report.endpoint_latency(entries, "p95_ms") == 70.0
    assert report.endpoint_latency(entries, "p99_ms") == 90.0
    assert math.isnan(report.endpoint_latency({}, "p95_ms"))


def test_a_run_that_sent_nothing_still_renders_as_invalid_with_empty_plots():
    page = report.render(empty_run())
    assert inner(page, "span", "verdict") == "INVALID"
    assert "<li>the run sent no requests</li>" in page.split("</header>")[0]
    for figure in ("latency", "throughput", "errors"):
        assert "<svg" in inner(page, "figure", figure)
    assert "No failures" in inner(page, "figure", "errors")
    assert "No errors" in inner(page, "section", "error-messages")
