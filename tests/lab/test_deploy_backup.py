"""Backups on the lab: pgBackRest keeps encrypted backups on each database host and a copy on
the backup host, the daily units succeed, and ``portalops restore`` brings data back.

Runs on the session's converged lab, after test_deploy.py.
"""

import pytest

from deploy.defaults import BACKUP
from tests.lab.province import ADDRESS, deploy, host, portalops, psql, table
from lab import settings
from lab.ssh import run_on

pytestmark = pytest.mark.lab

DATABASE_HOSTS = ["db-1", "huyen-thanh-hoa", "xa-thanh-hoa-01"]


def backups(name, stanza, repo):
    """The backups pgBackRest lists for a stanza in a repository, seen from host ``name``."""
    import json

    info = json.loads(host(name).check_output(
        f"cd / && runuser -u postgres -- pgbackrest --stanza={stanza} --repo={repo} --output=json info"))
    return info[0]["backup"], info[0]["cipher"]


def restore(*args):
    result = portalops("restore", str(settings.INVENTORY_FILE), *args)
    return result, table(result.stdout)


@pytest.mark.parametrize("stanza", DATABASE_HOSTS)
def test_each_database_host_has_an_encrypted_backup_of_its_own_and_a_copy_on_the_backup_host(converged, stanza):
    local, cipher = backups(stanza, stanza, 1)
    assert [b["type"] for b in local] == ["full"] and cipher == "aes-256-cbc"
    copy, cipher = backups("monitor-1", stanza, 2)
    assert [b["type"] for b in copy] == ["full"] and cipher == "aes-256-cbc"
    # Encrypted on disk: pgBackRest's files start with OpenSSL's salt header, not their text.
    for name, path in ((stanza, f"/var/lib/pgbackrest/backup/{stanza}/backup.info"),
                       ("monitor-1", f"/var/lib/pgbackrest/backup/{stanza}/backup.info")):
        assert host(name).check_output(f"head -c 8 {path}") == "Salted__"


def test_the_backup_ports_are_open_between_backup_and_database_hosts_only(converged):
    probe = f"timeout 3 bash -c '</dev/tcp/{{0}}/{BACKUP['backup_port']}' && echo open || echo closed"
    assert run_on(ADDRESS["db-1"], probe.format(ADDRESS["monitor-1"])).stdout.strip() == "open"
    assert run_on(ADDRESS["monitor-1"], probe.format(ADDRESS["db-1"])).stdout.strip() == "open"
    assert run_on(ADDRESS["portal-1"], probe.format(ADDRESS["monitor-1"])).stdout.strip() == "closed"
    assert run_on(ADDRESS["portal-1"], probe.format(ADDRESS["db-1"])).stdout.strip() == "closed"


def test_the_daily_units_take_a_differential_backup_and_the_copies(converged):
    assert host("db-1").run("systemctl start portalops-backup-repo1.service").rc == 0
    assert [b["type"] for b in backups("db-1", "db-1", 1)[0]][-1] in ("diff", "full")
    assert len(backups("db-1", "db-1", 1)[0]) == 2
    assert host("monitor-1").run("systemctl start portalops-backup-repo2.service").rc == 0
    assert all(len(backups("monitor-1", stanza, 2)[0]) == 2 for stanza in DATABASE_HOSTS)
    assert "portalops-backup-repo2.timer" in host("monitor-1").check_output("systemctl list-timers --all")


def test_a_dropped_table_comes_back_from_the_backup_hosts_copy_to_a_point_in_time(converged):
    psql("db-1", "create database restore_probe")
    psql("db-1", "create table kept(v text); insert into kept values ('before the mistake')", "restore_probe")
    moment = psql("db-1", "select now()")
    psql("db-1", "drop table kept", "restore_probe")
    result, rows = restore("db-1", "--from", "copy", "--time", moment, "--yes")
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert rows["db-1"][0] == "changed"
    assert psql("db-1", "select v from kept", "restore_probe") == "before the mistake"
    assert psql("db-1", "select pg_is_in_recovery()") == "f"
    # Archiving goes on from the restored database, into both repositories.
    assert host("db-1").run("cd / && runuser -u postgres -- pgbackrest --stanza=db-1 check").rc == 0


def test_a_restore_to_the_latest_keeps_everything_committed(converged):
    name = "xa-thanh-hoa-01"
    psql(name, "create table if not exists latest(v text); insert into latest values ('committed just now')")
    result, _ = restore(name, "--yes")
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert psql(name, "select v from latest") == "committed just now"
    assert psql(name, "select count(*) from pg_database where datname = 'dichvucong'", "postgres") == "1"


def test_a_restore_is_refused_without_yes_on_a_host_without_database_or_backup(converged):
    result, _ = restore("db-1")
    assert result.returncode == 2 and "--yes" in result.stderr
    result, rows = restore("portal-1", "--yes")
    assert result.returncode == 1 and rows["portal-1"][0] == "failed" and "[guard]" in rows["portal-1"][-1]
    assert "runs no PostgreSQL" in result.stderr


def test_after_the_restores_a_deploy_changes_nothing(converged):
    result, rows = deploy("--limit", "db-1", "--limit", "monitor-1", "--limit", "xa-thanh-hoa-01")
    assert result.returncode == 0, result.stdout
    assert {row[0] for row in rows.values()} == {"unchanged"}
