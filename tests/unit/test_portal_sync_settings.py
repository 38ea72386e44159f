"""The portal's settings for per-host sync credentials: a senders file that cannot be read as
host name -> unit code stops the portal naming the variable, and a client key needs its
certificate."""

import pytest

from dichvucong.config import Config


def test_the_senders_file_is_read_as_host_name_to_unit_code(tmp_path, monkeypatch):
    senders = tmp_path / "sync_senders.json"
    senders.write_text('{"onestop-1722": "000.17.22.H56"}')
    monkeypatch.setenv("DVC_SYNC_SENDERS_FILE", str(senders))
    assert Config.from_env().sync_senders == {"onestop-1722": "000.17.22.H56"}


def test_without_a_senders_file_any_holder_of_the_token_may_sync(monkeypatch):
    monkeypatch.delenv("DVC_SYNC_SENDERS_FILE", raising=False)
    assert Config.from_env().sync_senders is None


@pytest.mark.parametrize("text", ['["onestop-1722"]', '{"onestop-1722": 17}', "not json"])
def test_a_senders_file_that_is_not_an_object_of_strings_is_refused_naming_the_variable(tmp_path, monkeypatch,
                                                                                        text):
    senders = tmp_path / "sync_senders.json"
    senders.write_text(text)
    monkeypatch.setenv("DVC_SYNC_SENDERS_FILE", str(senders))
    with pytest.raises(ValueError, match="DVC_SYNC_SENDERS_FILE"):
        Config.from_env()


def test_a_client_key_without_its_certificate_is_refused(monkeypatch):
    monkeypatch.setenv("DVC_SYNC_CLIENT_KEY_FILE", "/etc/dichvucong/secrets/sync_client.key")
    monkeypatch.delenv("DVC_SYNC_CLIENT_CERT_FILE", raising=False)
    with pytest.raises(ValueError, match="DVC_SYNC_CLIENT_CERT_FILE"):
        Config.from_env()


def test_security_events_are_bounded_at_60_a_minute_unless_set(monkeypatch):
    monkeypatch.delenv("DVC_SECURITY_EVENTS_PER_MINUTE", raising=False)
    assert Config.from_env().security_events_per_minute == 60
    monkeypatch.setenv("DVC_SECURITY_EVENTS_PER_MINUTE", "5")
    assert Config.from_env().security_events_per_minute == 5
