"""Rolling a deploy out in waves (deploy/rollout.py, ``portalops deploy --batch``): a canary,
then batches, stopping before the rest when a wave goes wrong; and the switch script's pruning
of old portal releases (deploy/files/dichvucong-switch)."""

from __future__ import annotations

import os
import re
import subprocess
from fnmatch import fnmatch
from pathlib import Path

import pytest
from click.testing import CliRunner

from deploy import defaults, rollout
from deploy.app import SWITCH
from deploy.rollout import HostOutcome, RolloutError, Wave, plan_waves, run_waves, wave_size
from portalops.cli import main

PROVINCE = ["db-1", "portal-1", "monitor-1"]


def entry(name: str, *roles: str, tier: str = "commune") -> dict:
    """A host as inventory_entries gives it."""
    return {"name": name, "groups": [*roles, tier], "data": {"roles": list(roles), "tier": tier}}


def province(communes: int = 6) -> list[dict]:
    """The province's own hosts first, then its one-stop communes, as the units table orders them."""
    return [entry("db-1", "db", "backup", tier="province"), entry("portal-1", "portal", tier="province"),
            entry("monitor-1", "monitor", tier="province"),
            *(entry(f"xa-{n:03}", "onestop") for n in range(1, communes + 1))]


def hosts_of(waves: list[Wave]) -> list[list[str]]:
    return [wave.hosts for wave in waves]


# --- planning -----------------------------------------------------------------------------------


def test_the_canary_is_the_first_one_stop_host_and_goes_alone():
    waves = plan_waves(province(), "3")
    assert waves[0].canary and waves[0].name == "canary" and waves[0].hosts == ["xa-001"]
    assert hosts_of(waves[1:]) == [["db-1", "portal-1", "monitor-1"], ["xa-002", "xa-003", "xa-004"],
                                   ["xa-005", "xa-006"]]
    assert [wave.name for wave in waves[1:]] == ["wave 1", "wave 2", "wave 3"]


def test_without_a_one_stop_host_the_canary_is_the_first_host():
    waves = plan_waves(province(communes=0), "5")
    assert hosts_of(waves) == [["db-1"], ["portal-1", "monitor-1"]]


def test_the_canary_can_be_named():
    waves = plan_waves(province(), "10", canary="portal-1")
    assert hosts_of(waves) == [["portal-1"], ["db-1", "monitor-1", *(f"xa-{n:03}" for n in range(1, 7))]]


def test_a_canary_that_is_not_a_targeted_host_is_a_clear_error():
    with pytest.raises(RolloutError, match=r"--canary xa-999: not one of the 9 targeted hosts \(db-1, portal-1, "):
        plan_waves(province(), "10", canary="xa-999")


def test_a_percent_batch_is_that_share_of_the_targeted_hosts_rounded_up():
    entries = province(communes=166)  # 169 hosts: 10% is 16.9, so 17 a wave
    waves = plan_waves(entries, "10%")
    assert wave_size("10%", 169) == 17
    assert [len(wave.hosts) for wave in waves] == [1] + [17] * 9 + [168 - 17 * 9]
    assert sorted(name for wave in waves for name in wave.hosts) == sorted(e["name"] for e in entries)


def test_a_tiny_share_still_makes_waves_of_one_host():
    assert wave_size("1%", 9) == 1 and wave_size("100%", 9) == 9


@pytest.mark.parametrize("batch", ["0", "0%", "101%", "ten", "-3", "", "5 hosts"])
def test_a_batch_that_is_no_number_of_hosts_or_share_is_refused(batch):
    with pytest.raises(RolloutError, match="--batch"):
        plan_waves(province(), batch)


def test_a_rollout_over_no_host_is_refused():
    with pytest.raises(RolloutError, match="no host to roll out to"):
        plan_waves([], "10")


def test_a_host_named_like_a_group_is_refused_since_limit_would_take_the_group():
    with pytest.raises(RolloutError, match="host onestop has a group's name"):
        plan_waves([*province(), entry("onestop", "onestop")], "10")


# --- stopping ---------------------------------------------------------------------------------------


def runner_failing(failed=(), unreachable=()):
    """A fake pyinfra run: every host changed, but those named failed or were unreachable."""
    calls = []

    def run(hosts):
        calls.append(list(hosts))
        return [HostOutcome(name, changed=2, failed=["Base | [base-01] admins"] if name in failed else [],
                            unreachable="timed out" if name in unreachable else "") for name in hosts]

    run.calls = calls
    return run


def test_every_wave_runs_when_nothing_fails():
    run = runner_failing()
    result = run_waves(plan_waves(province(), "4"), run)
    assert run.calls == [["xa-001"], ["db-1", "portal-1", "monitor-1", "xa-002"], ["xa-003", "xa-004", "xa-005",
                                                                                  "xa-006"]]
    assert result.stopped == "" and result.untouched == [] and len(result.outcomes) == 9


def test_a_failed_canary_stops_the_rollout_whatever_max_fail_allows():
    run = runner_failing(failed={"xa-001"})
    result = run_waves(plan_waves(province(), "4"), run, max_fail=100)
    assert run.calls == [["xa-001"]]
    assert result.stopped == "the canary xa-001 failed"
    assert result.untouched == ["db-1", "portal-1", "monitor-1", *(f"xa-{n:03}" for n in range(2, 7))]
    assert [o.name for o in result.ran[0].bad] == ["xa-001"]


def test_an_unreachable_canary_stops_the_rollout_too():
    result = run_waves(plan_waves(province(), "4"), runner_failing(unreachable={"xa-001"}), max_fail=1)
    assert result.stopped == "the canary xa-001 was unreachable" and len(result.untouched) == 8


def test_a_wave_within_max_fail_goes_on_and_one_beyond_it_stops_the_rest():
    waves = plan_waves(province(communes=9), "3")  # canary xa-001; the province; xa-002..004; ...
    run = runner_failing(failed={"portal-1"}, unreachable={"xa-002", "xa-003"})
    result = run_waves(waves, run, max_fail=1)
    assert [wave.name for wave in result.ran] == ["canary", "wave 1", "wave 2"]
    assert result.stopped == "wave 2 had 2 failed or unreachable hosts, more than the 1 allowed (--max-fail)"
    assert [wave.name for wave in result.not_run] == ["wave 3", "wave 4"]
    assert result.untouched == [f"xa-{n:03}" for n in range(5, 10)]
    # what each wave's hosts got, for the summary (and a lab test) to read
    assert {o.name: o.state for o in result.ran[1].outcomes} == {"db-1": "changed", "portal-1": "failed",
                                                                  "monitor-1": "changed"}


def test_max_fail_zero_stops_after_the_first_failed_host():
    result = run_waves(plan_waves(province(), "3"), runner_failing(failed={"monitor-1"}))
    assert [wave.name for wave in result.ran] == ["canary", "wave 1"] and len(result.untouched) == 5


def test_the_last_wave_failing_touches_every_host_and_still_says_it_stopped():
    result = run_waves(plan_waves(province(), "10"), runner_failing(failed={"xa-006"}))
    assert result.untouched == [] and result.stopped.startswith("wave 1 had 1 failed or unreachable host,")


# --- the rollout and the command --------------------------------------------------------------------


@pytest.fixture
def fake_pyinfra(monkeypatch):
    """deploy.rollout with the inventory, the release builds and pyinfra's runs faked; what was
    run, in order, is recorded."""
    events = []
    failing = set()

    def entries(inventory, limit=()):
        return [e for e in province() if not limit or any(fnmatch(name, pattern) for name in [e["name"], *e["groups"]]
                                                           for pattern in limit)]

    def run_pyinfra(inventory, hosts, limit=(), dry=False, diff=False, data=(), script=None, echo=True):
        events.append(("run", list(limit)))
        return [HostOutcome(name, changed=3, failed=["App | [app-03] switch"] if name in failing else [])
                for name in hosts]

    monkeypatch.setattr(rollout, "inventory_entries", entries)
    monkeypatch.setattr(rollout, "build_releases", lambda: events.append(("build",)))
    monkeypatch.setattr(rollout, "run_pyinfra", run_pyinfra)
    return events, failing


def test_the_releases_are_built_once_before_the_first_wave_and_each_wave_is_limited_to_its_hosts(fake_pyinfra):
    events, _ = fake_pyinfra
    result = rollout.rollout("province.py", "3", limit=["commune"])
    assert events == [("build",), ("run", ["xa-001"]), ("run", ["xa-002", "xa-003", "xa-004"]),
                      ("run", ["xa-005", "xa-006"])]
    assert result.untouched == []


def test_the_command_prints_each_wave_and_the_hosts_it_never_touched(fake_pyinfra):
    _, failing = fake_pyinfra
    failing.add("xa-002")
    result = CliRunner().invoke(main, ["deploy", "province.py", "--batch", "50%", "--limit", "commune"])
    assert result.exit_code == 1
    out = result.output
    assert "canary: 1 host" in out and "wave 1: 3 hosts" in out
    assert re.search(r"xa-002\s+failed\s+3\s+0\s+App \| \[app-03\] switch", out)
    assert ("rollout stopped: wave 1 had 1 failed or unreachable host, more than the 0 allowed (--max-fail);"
            " not touched:") in out
    assert re.search(r"xa-005\s+wave 2", out) and re.search(r"xa-006\s+wave 2", out)
    assert "2 of 3 waves ran (4 hosts), 1 failed or unreachable (xa-002), 2 not touched" in out


def test_the_command_exits_0_when_every_wave_went_through(fake_pyinfra):
    result = CliRunner().invoke(main, ["deploy", "province.py", "--batch", "2", "--canary", "portal-1"])
    assert result.exit_code == 0, result.output
    assert "5 of 5 waves ran (9 hosts), 0 failed or unreachable, 0 not touched" in result.output


def test_the_command_names_an_unknown_canary(fake_pyinfra):
    result = CliRunner().invoke(main, ["deploy", "province.py", "--batch", "2", "--canary", "nowhere"])
    assert result.exit_code == 2 and "--canary nowhere: not one of the 9 targeted hosts" in result.output


def test_canary_and_max_fail_need_batch():
    result = CliRunner().invoke(main, ["deploy", "province.py", "--max-fail", "3"])
    assert result.exit_code == 2 and "--canary and --max-fail go with --batch" in result.output


# --- pruning old releases -------------------------------------------------------------------------


def portal_base(tmp_path: Path, names: list[str]) -> Path:
    """/opt/dichvucong with a release per name, the first the newest (each a minute older)."""
    base = tmp_path / "opt-dichvucong"
    for age, name in enumerate(names):
        release = base / "releases" / name
        (release / "bin").mkdir(parents=True)
        (release / "bin" / "dichvucong").write_text("#!/bin/sh\n")
        (release / "bin" / "dichvucong").chmod(0o755)
        stamp = 1_800_000_000 - 60 * age
        os.utime(release, (stamp, stamp))
    return base


def switch(base: Path, *args: str, env: dict | None = None, path: Path | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "DICHVUCONG_BASE": str(base), **(env or {})}
    if path:
        environment["PATH"] = f"{path}:{environment['PATH']}"
    return subprocess.run(["sh", str(SWITCH), *args], env=environment, capture_output=True, text=True, timeout=60)


def releases_in(base: Path) -> set[str]:
    return {p.name for p in (base / "releases").iterdir()}


def test_prune_keeps_current_previous_and_releases_kept_more_newest_first(tmp_path):
    names = [f"1.0.{n}-code-conf" for n in range(9, 0, -1)]  # 1.0.9 newest ... 1.0.1 oldest
    base = portal_base(tmp_path, names)
    (base / "current").symlink_to(base / "releases" / "1.0.2-code-conf")  # an old one, gone back to
    (base / "previous").symlink_to(base / "releases" / "1.0.1-code-conf")
    result = switch(base, "prune", env={"RELEASES_KEPT": "3"})
    assert result.returncode == 0, result.stderr
    assert releases_in(base) == {"1.0.2-code-conf", "1.0.1-code-conf", "1.0.9-code-conf", "1.0.8-code-conf",
                                 "1.0.7-code-conf"}
    assert "removing old release 1.0.6-code-conf" in result.stdout


def test_prune_never_removes_the_stand_ins_releases(tmp_path):
    base = portal_base(tmp_path, ["1.0.3-c-e", "1.0.2-c-e", "1.0.1-c-standins", "1.0.1-c-e"])
    (base / "current").symlink_to(base / "releases" / "1.0.3-c-e")
    result = switch(base, "prune", env={"RELEASES_KEPT": "0"})
    assert result.returncode == 0, result.stderr
    assert releases_in(base) == {"1.0.3-c-e", "1.0.1-c-standins"}


def test_prune_removes_the_wheelhouses_no_kept_release_was_installed_from(tmp_path):
    base = portal_base(tmp_path, ["1.0.3-c3-e", "1.0.2-c2-e", "1.0.1-c1-e"])
    for code in ("1.0.3-c3", "1.0.2-c2", "1.0.1-c1"):
        (base / "wheelhouse" / code).mkdir(parents=True)
    (base / "current").symlink_to(base / "releases" / "1.0.3-c3-e")
    (base / "previous").symlink_to(base / "releases" / "1.0.2-c2-e")
    result = switch(base, "prune", env={"RELEASES_KEPT": "0"})
    assert result.returncode == 0, result.stderr
    assert {p.name for p in (base / "wheelhouse").iterdir()} == {"1.0.3-c3", "1.0.2-c2"}
    assert "removing old wheelhouse 1.0.1-c1" in result.stdout


def test_prune_refuses_a_releases_kept_that_is_no_number(tmp_path):
    base = portal_base(tmp_path, ["1.0.2-c-e", "1.0.1-c-e"])
    result = switch(base, "prune", env={"RELEASES_KEPT": "all"})
    assert result.returncode == 2 and "RELEASES_KEPT must be a number" in result.stderr
    assert releases_in(base) == {"1.0.2-c-e", "1.0.1-c-e"}


def test_the_script_keeps_as_many_releases_as_the_deploy_default_says():
    # The script cannot import deploy/defaults.py; its default must say the same number.
    default = re.search(r"kept=\$\{RELEASES_KEPT:-(\d+)\}", SWITCH.read_text())
    assert default and int(default[1]) == defaults.APP["releases_kept"]


def stub_tools(tmp_path: Path, healthy: bool) -> Path:
    """systemctl that does nothing and curl whose /readyz answers as ``healthy`` says."""
    tools = tmp_path / "tools"
    tools.mkdir()
    for name, code in (("systemctl", 0), ("curl", 0 if healthy else 1)):
        (tools / name).write_text(f"#!/bin/sh\nexit {code}\n")
        (tools / name).chmod(0o755)
    return tools


def test_a_healthy_switch_records_the_previous_release_and_prunes(tmp_path):
    names = ["1.0.6-c-e", "1.0.5-c-e", "1.0.4-c-e", "1.0.3-c-e", "1.0.2-c-e", "1.0.1-c-e", "1.0.0-c-standins"]
    base = portal_base(tmp_path, names)
    (base / "current").symlink_to(base / "releases" / "1.0.5-c-e")
    result = switch(base, "1.0.6-c-e", env={"RELEASES_KEPT": "1"}, path=stub_tools(tmp_path, healthy=True))
    assert result.returncode == 0, result.stderr
    assert os.readlink(base / "current") == str(base / "releases" / "1.0.6-c-e")
    assert os.readlink(base / "previous") == str(base / "releases" / "1.0.5-c-e")
    assert releases_in(base) == {"1.0.6-c-e", "1.0.5-c-e", "1.0.4-c-e", "1.0.0-c-standins"}


def test_an_unhealthy_switch_goes_back_and_removes_nothing(tmp_path):
    names = ["1.0.4-c-e", "1.0.3-c-e", "1.0.2-c-e", "1.0.1-c-e"]
    base = portal_base(tmp_path, names)
    (base / "current").symlink_to(base / "releases" / "1.0.3-c-e")
    result = switch(base, "1.0.4-c-e", env={"RELEASES_KEPT": "0", "HEALTH_SECONDS": "1"},
                    path=stub_tools(tmp_path, healthy=False))
    assert result.returncode == 1 and "going back to" in result.stderr
    assert os.readlink(base / "current") == str(base / "releases" / "1.0.3-c-e")
    assert not (base / "previous").exists()
    assert releases_in(base) == set(names)
