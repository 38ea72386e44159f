"""Reading pgBackRest's ``info --output=json``: how many backups, or None when there is no stanza."""

import json

from deploy.facts import backup_count


def info(code, backups=()):
    return json.dumps([{"name": "db-1", "backup": [{"label": b} for b in backups],
                        "status": {"code": code, "message": "..."}}]).splitlines()


def test_backups_of_a_healthy_stanza_are_counted():
    assert backup_count(info(0, ["20261127-015447F", "20261128-013000D"])) == 2


def test_a_stanza_without_backups_counts_zero():
    assert backup_count(info(2)) == 0


def test_a_missing_stanza_or_an_unreadable_repository_is_none():
    assert backup_count(info(1)) is None  # missing stanza path
    assert backup_count(info(99)) is None  # other error, e.g. wrong passphrase
    assert backup_count([]) is None  # pgBackRest not installed
    assert backup_count(["\x00garbage"]) is None
