"""The alert and recording rules: valid for Prometheus, every alert tested by promtool, labelled
and annotated for the person on call, with a runbook page of the four usual parts."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "monitors" / "rules"
RUNBOOKS = ROOT / "runbooks"
RULE_FILES = sorted(RULES.glob("*.yml"))
TEST_FILES = sorted((RULES / "tests").glob("*.test.yml"))
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool (Debian package prometheus) not installed")


def alerts():
    """Every alert rule of every rule file, as (file name, rule)."""
    return [(path.name, rule) for path in RULE_FILES for group in yaml.safe_load(path.read_text())["groups"]
            for rule in group["rules"] if "alert" in rule]


def test_there_are_rule_files_and_alerts():
    assert len(RULE_FILES) >= 3 and len(alerts()) >= 10


@needs_promtool
def test_promtool_accepts_every_rule_file():
    result = subprocess.run([PROMTOOL, "check", "rules", *map(str, RULE_FILES)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_promtool_unit_tests_pass():
    result = subprocess.run([PROMTOOL, "test", "rules", *map(str, TEST_FILES)], capture_output=True, text=True,
                            cwd=RULES / "tests")
    assert result.returncode == 0, result.stdout + result.stderr


def test_test_files_order_rule_groups_that_feed_each_other():
    """promtool evaluates a file's rule groups in random order unless told: an alert reading a
    recording rule then sees this step's value or the last one's, and its test is flaky."""
    for path in TEST_FILES:
        test = yaml.safe_load(path.read_text())
        groups = [group["name"] for rule_file in test["rule_files"]
                  for group in yaml.safe_load((path.parent / rule_file).read_text())["groups"]]
        if len(groups) > 1:
            assert sorted(test.get("group_eval_order", [])) == sorted(groups), path.name


def test_every_alert_has_severity_summary_description_and_runbook_url():
    for name, rule in alerts():
        assert rule["labels"]["severity"] in ("page", "ticket"), (name, rule["alert"])
        for annotation in ("summary", "description", "runbook_url"):
            assert rule["annotations"].get(annotation), (name, rule["alert"], annotation)
        assert rule["annotations"]["runbook_url"].endswith(f"/consoles/runbooks/{rule['alert']}.html")


def test_every_alert_has_a_promtool_test_that_expects_it_to_fire():
    tested = set()
    for path in TEST_FILES:
        for case in yaml.safe_load(path.read_text())["tests"]:
            tested |= {t["alertname"] for t in case.get("alert_rule_test", []) if t.get("exp_alerts")}
    assert {rule["alert"] for _, rule in alerts()} - tested == set()


def test_every_alert_has_a_runbook_page_with_meaning_impact_diagnosis_and_mitigation():
    for _, rule in alerts():
        page = RUNBOOKS / f"{rule['alert']}.md"
        assert page.exists(), f"no runbook page {page.relative_to(ROOT)}"
        headings = re.findall(r"^## (\w+)", page.read_text(), re.M)
        assert headings[:4] == ["Meaning", "Impact", "Diagnosis", "Mitigation"], (page.name, headings)
