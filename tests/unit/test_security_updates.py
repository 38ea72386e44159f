"""Pending security updates (counted in a child process, cached) and a required reboot."""

import time

from deploy.facts import SecurityUpgrades
from portalops_exporters.security.updates import SECURITY_UPGRADES, PendingUpdates


def gauges(updates):
    return {family.name: family.samples[0].value for family in updates.collect()}


def wait_for_count(updates, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = gauges(updates)
        if "portalops_security_updates_pending" in found:
            return found
        time.sleep(0.05)
    raise AssertionError("the count never came")


def test_exporter_counts_updates_with_the_deploys_own_command():
    assert SecurityUpgrades().command() == SECURITY_UPGRADES


def test_count_comes_from_a_child_process_and_is_absent_until_it_finishes(tmp_path):
    updates = PendingUpdates("sleep 0.3; printf 'openssl\\nlibssl3\\n'", 3600, str(tmp_path / "reboot-required"))
    first = gauges(updates)
    assert "portalops_security_updates_pending" not in first
    assert first["portalops_security_updates_checked_timestamp_seconds"] == 0
    found = wait_for_count(updates)
    assert found["portalops_security_updates_pending"] == 2
    assert found["portalops_security_updates_checked_timestamp_seconds"] > 0


def test_count_is_kept_until_the_refresh_interval_has_passed(tmp_path):
    marker = tmp_path / "runs"
    updates = PendingUpdates(f"echo run >> {marker}; echo openssl", 3600, str(tmp_path / "reboot-required"))
    wait_for_count(updates)
    for _ in range(5):
        gauges(updates)
    assert marker.read_text().count("run") == 1


def test_failing_command_keeps_the_last_count(tmp_path):
    now = [1000.0]
    updates = PendingUpdates("echo openssl", 60, str(tmp_path / "reboot-required"), clock=lambda: now[0])
    assert wait_for_count(updates)["portalops_security_updates_pending"] == 1
    updates.command = "exit 3"
    now[0] += 61
    gauges(updates)
    time.sleep(0.3)
    found = gauges(updates)
    assert (found["portalops_security_updates_pending"], found["portalops_security_updates_checked_timestamp_seconds"]) \
        == (1, 1000.0)


def test_reboot_required_is_1_while_the_file_exists(tmp_path):
    flag = tmp_path / "reboot-required"
    updates = PendingUpdates(None, 3600, str(flag))
    assert gauges(updates) == {"portalops_security_reboot_required": 0}
    flag.touch()
    assert gauges(updates) == {"portalops_security_reboot_required": 1}
