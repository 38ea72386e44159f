"""deploy/files/portalops-backup records each good backup, and only good ones, where the
services exporter reads the age of the last good backup (pgBackRest stands in by a script)."""

import math
import os
import subprocess
import time
from pathlib import Path

from portalops_exporters.services import ServicesCollector

SCRIPT = Path(__file__).parents[2] / "deploy" / "files" / "portalops-backup"
# Fails for the stanza called "db-broken", records every call.
PGBACKREST = """#!/bin/sh
echo "$@" >> "$(dirname "$0")/calls"
case "$*" in *--stanza=db-broken*) exit 1;; esac
exit 0
"""


def run_backup(tmp_path, repo, *stanzas):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "pgbackrest").write_text(PGBACKREST)
    (bin_dir / "pgbackrest").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "PORTALOPS_BACKUP_STAMPS": str(tmp_path / "stamps")}
    return subprocess.run(["sh", str(SCRIPT), str(repo), *stanzas], env=env, capture_output=True, text=True)


def test_a_good_backup_leaves_its_time_and_a_failed_one_none_and_the_run_fails(tmp_path):
    result = run_backup(tmp_path, 2, "db-1", "db-broken", "onestop-17")
    assert result.returncode == 1
    assert "backup of db-broken into repo2 failed" in result.stderr
    stamps = tmp_path / "stamps" / "repo2"
    assert sorted(p.name for p in stamps.iterdir()) == ["db-1", "onestop-17"]
    assert abs(int((stamps / "db-1").read_text()) - time.time()) < 60
    assert (stamps / "db-1").stat().st_mode & 0o777 == 0o644  # the exporter is another user
    calls = (tmp_path / "bin" / "calls").read_text().splitlines()
    assert [call.split()[:2] for call in calls] == [["--stanza=db-1", "--repo=2"], ["--stanza=db-broken", "--repo=2"],
                                                    ["--stanza=onestop-17", "--repo=2"]]


def test_the_exporter_reads_the_script_s_stamps_as_the_last_good_backups(tmp_path):
    run_backup(tmp_path, 1, "db-1", "db-broken")
    collector = ServicesCollector(stores={}, backup_stamps=str(tmp_path / "stamps"),
                                  expected_backups={"1": ["db-1", "db-broken"]})
    age = {s.labels["stanza"]: s.value for family in collector.collect() for s in family.samples
           if s.name == "portalops_services_backup_age_seconds"}
    assert age["db-1"] < 60
    assert math.isinf(age["db-broken"])
