"""The probe configuration is checked at start: a mistake stops the exporter with a message naming
the key, instead of a probe that silently passes."""

import pytest

from portalops_exporters.probe import ConfigError, load_config

JOURNEY = {"citizen": "001099000001", "sso_issuer": "http://198.18.0.5:8900/sso", "catalogue_query": "khai sinh",
           "procedure_code": "HT.c.001"}


def modules(**specs) -> dict:
    return {"modules": specs}


def test_an_unknown_key_is_an_error_naming_it():
    with pytest.raises(ConfigError, match=r"modules\.web\.http: unknown key\(s\) fail_if_body_not_match_regexp"):
        load_config(modules(web={"prober": "http", "http": {"fail_if_body_not_match_regexp": ["ok"]}}))


def test_durations_read_as_blackbox_writes_them():
    config = load_config({"timeout_offset": "250ms",
                          "modules": {"a": {"prober": "tcp", "timeout": "5s"}, "b": {"prober": "tcp", "timeout": 2},
                                      "c": {"prober": "tcp", "timeout": "1m"}, "d": {"prober": "tcp"}}})
    assert config.timeout_offset == 0.25
    assert [config.modules[m].timeout for m in "abcd"] == [5.0, 2.0, 60.0, 10.0]


def test_a_bad_regular_expression_is_an_error_at_start():
    with pytest.raises(ConfigError, match="fail_if_body_matches_regexp.*not a regular expression"):
        load_config(modules(web={"prober": "http", "http": {"fail_if_body_matches_regexp": ["(unclosed"]}}))


def test_an_unreadable_ca_file_is_an_error_at_start(tmp_path):
    with pytest.raises(ConfigError, match="ca_file: .*ca.pem cannot be read"):
        load_config(modules(tls={"prober": "tcp", "tcp": {"tls": True, "tls_config": {"ca_file": str(tmp_path / "ca.pem")}}}))


def test_settings_for_another_prober_are_refused():
    with pytest.raises(ConfigError, match="'http' settings given to a tcp prober"):
        load_config(modules(ssh={"prober": "tcp", "http": {}}))


def test_an_unknown_prober_is_refused():
    with pytest.raises(ConfigError, match="prober: 'icmp'"):
        load_config(modules(ping={"prober": "icmp"}))


def test_a_journey_needs_a_test_citizen_of_the_stand_in_and_its_issuer():
    assert load_config(modules(j={"prober": "journey", "journey": JOURNEY})).modules["j"].journey.citizen == JOURNEY["citizen"]
    with pytest.raises(ConfigError, match="citizen: a test citizen"):
        load_config(modules(j={"prober": "journey", "journey": {**JOURNEY, "citizen": "canbo-000.00.00.H56"}}))
    without_issuer = {k: v for k, v in JOURNEY.items() if k != "sso_issuer"}
    with pytest.raises(ConfigError, match="sso_issuer: required"):
        load_config(modules(j={"prober": "journey", "journey": without_issuer}))


def test_no_modules_is_an_error():
    with pytest.raises(ConfigError, match="'modules'"):
        load_config({"modules": {}})
