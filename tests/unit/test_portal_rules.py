"""The portal's rules that need no database: life cycle, appointments, checksums, safety checks."""

from datetime import datetime, timezone

import pytest

from dichvucong.attachments import parse_id, path_of
from dichvucong.auth import safe_return_to
from dichvucong.catalogue_seed import search_text, seed_rows
from dichvucong.checksum import CONFIRM_FIELDS, checksum, verify
from dichvucong.config import Config
from dichvucong.errors import NotFound
from dichvucong.outbox import backoff_seconds
from dichvucong.status import FINISHED, OFFICER_ACTIONS, TRANSITIONS, Channel, Status, allowed, due_date, \
    initial_status, is_overdue


def test_every_status_has_its_moves_and_finished_ones_have_none():
    assert set(TRANSITIONS) == set(Status)
    for status in (Status.REJECTED, Status.WITHDRAWN, Status.STOPPED, Status.RESULT_RETURNED):
        assert not TRANSITIONS[status]


def test_a_result_can_only_be_returned_after_it_is_ready():
    assert allowed(9, 10)
    assert not any(allowed(s, 10) for s in Status if s != Status.RESULT_READY)


def test_every_officer_action_leads_somewhere_reachable():
    reachable = set().union(*TRANSITIONS.values())
    assert set(OFFICER_ACTIONS.values()) <= reachable


def test_online_dossiers_wait_to_be_received_and_desk_ones_start_received():
    assert initial_status(Channel.ONLINE) == Status.SUBMITTED_ONLINE
    assert initial_status(Channel.IN_PERSON) == initial_status(Channel.POSTAL) == Status.RECEIVED


def test_the_appointment_counts_working_days_only():
    friday = datetime(2026, 11, 27, 9, tzinfo=timezone.utc)
    assert due_date(friday, 1) == datetime(2026, 11, 30, 9, tzinfo=timezone.utc)  # Monday
    assert due_date(friday, 5) == datetime(2026, 12, 4, 9, tzinfo=timezone.utc)


def test_overdue_is_derived_and_never_for_a_finished_dossier():
    due = datetime(2026, 1, 1, tzinfo=timezone.utc)
    later = datetime(2026, 2, 1, tzinfo=timezone.utc)
    assert is_overdue(Status.PROCESSING, due, later)
    assert not is_overdue(Status.PROCESSING, later, due)
    assert not any(is_overdue(s, due, later) for s in FINISHED)


def test_the_payment_checksum_covers_every_field_and_the_key():
    message = {"merchant": "H56", "order_id": "1-a", "amount": 50000, "status": "success", "transaction_id": "t"}
    signed = dict(message, checksum=checksum(message, CONFIRM_FIELDS, "key"))
    assert verify(signed, CONFIRM_FIELDS, "key")
    assert not verify(signed, CONFIRM_FIELDS, "other key")
    assert not verify(dict(signed, amount=1), CONFIRM_FIELDS, "key")
    assert not verify(signed, CONFIRM_FIELDS, "")  # no key configured: nothing verifies


def test_after_login_only_local_paths_are_followed():
    assert safe_return_to("/dossiers/x") == "/dossiers/x"
    for target in ("//evil.example", "https://evil.example", "/\\evil.example", None, ""):
        assert safe_return_to(target) == "/"


def test_downloads_never_leave_the_upload_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("DVC_UPLOAD_DIR", str(tmp_path / "uploads"))
    config = Config.from_env()
    config.upload_dir.mkdir()
    (tmp_path / "secret").write_text("x")
    (config.upload_dir / "ok").write_text("y")
    assert path_of(config, "ok").read_text() == "y"
    for name in ("../secret", "/etc/passwd", "..", ""):
        with pytest.raises(NotFound):
            path_of(config, name)
    with pytest.raises(NotFound):
        parse_id("../../etc/passwd")


def test_a_bad_mode_is_refused_naming_the_variable(monkeypatch):
    monkeypatch.setenv("DVC_MODE", "district")
    with pytest.raises(ValueError, match="DVC_MODE='district'"):
        Config.from_env()


def test_secrets_come_from_files_when_named(tmp_path, monkeypatch):
    secret = tmp_path / "payment"
    secret.write_text("s3cret\n")
    monkeypatch.setenv("DVC_PAYMENT_SECRET_FILE", str(secret))
    assert Config.from_env().payment_secret == "s3cret"


def test_retries_back_off_exponentially_up_to_a_cap():
    assert [backoff_seconds(n) for n in (1, 2, 3)] == [1, 2, 4]
    assert backoff_seconds(50) == 300


def test_the_seed_catalogue_has_unique_codes_and_searchable_names():
    rows = seed_rows()
    assert len({r["code"] for r in rows}) == len(rows) >= 200
    assert search_text("Đăng ký kết hôn") == "dang ky ket hon"
