"""The TCP prober through /probe: connect, TLS certificate expiry, and an SSH-style banner exchange."""

import time
from urllib.parse import urlencode

import pytest

from tests.probe_servers import (Ca, LineServer, SilentServer, WebServer, closed_port, exporter_at,
                                               fetch, samples)


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    return Ca(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="module")
def exporter(ca):
    modules = {
        "tcp_connect": {"prober": "tcp", "timeout": "5s"},
        "tls_expiry": {"prober": "tcp", "timeout": "5s",
                       "tcp": {"tls": True, "tls_config": {"ca_file": str(ca.ca_file)}}},
        "ssh_banner": {"prober": "tcp", "timeout": "1s",
                       "tcp": {"query_response": [{"expect": "^SSH-2.0-"}, {"send": "SSH-2.0-portalops-probe"}]}},
    }
    with exporter_at({"modules": modules}) as url:
        yield url


def probe(exporter: str, module: str, target: str) -> dict[str, float]:
    status, text = fetch(f"{exporter}/probe?{urlencode({'module': module, 'target': target})}")
    assert status == 200, text
    return samples(text)


def test_a_listening_port_is_a_success_with_its_address_family(exporter):
    with WebServer() as site:
        found = probe(exporter, "tcp_connect", f"127.0.0.1:{site.port}")
    assert found["probe_success"] == 1
    assert found["probe_ip_protocol"] == 4
    assert "probe_tls_version_info" not in " ".join(found)


def test_a_closed_port_fails(exporter):
    assert probe(exporter, "tcp_connect", f"127.0.0.1:{closed_port()}")["probe_success"] == 0


@pytest.mark.parametrize("days", [5, 29])
def test_tls_expiry_reports_when_the_certificate_ends(exporter, ca, days):
    cert, key, not_after = ca.issue(days=days)
    with WebServer(tls=(cert, key)) as site:
        found = probe(exporter, "tls_expiry", f"127.0.0.1:{site.port}")
    assert found["probe_success"] == 1
    assert found["probe_ssl_earliest_cert_expiry"] == not_after.timestamp()
    assert round((found["probe_ssl_earliest_cert_expiry"] - time.time()) / 86400) == days
    assert found['probe_tls_version_info{version="TLS 1.3"}'] == 1


def test_an_expired_certificate_fails_the_tls_probe(exporter, ca):
    cert, key, _ = ca.issue(days=-1)
    with WebServer(tls=(cert, key)) as site:
        found = probe(exporter, "tls_expiry", f"127.0.0.1:{site.port}")
    assert found["probe_success"] == 0


def test_an_ssh_banner_matches_and_the_probe_says_who_it_is(exporter):
    with LineServer(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n") as sshd:
        found = probe(exporter, "ssh_banner", f"127.0.0.1:{sshd.port}")
        deadline = time.monotonic() + 2
        while not sshd.received and time.monotonic() < deadline:
            time.sleep(0.01)
    assert (found["probe_success"], found["probe_failed_due_to_regex"]) == (1, 0)
    assert sshd.received == [b"SSH-2.0-portalops-probe\n"]


def test_a_banner_of_another_service_fails_due_to_regex(exporter):
    with LineServer(b"220 mail.example ESMTP\r\n", hang_up=True) as smtp:
        found = probe(exporter, "ssh_banner", f"127.0.0.1:{smtp.port}")
    assert (found["probe_success"], found["probe_failed_due_to_regex"]) == (0, 1)


def test_a_silent_service_fails_the_banner_within_the_modules_timeout(exporter):
    with SilentServer() as hung:
        found = probe(exporter, "ssh_banner", f"127.0.0.1:{hung.port}")
    assert found["probe_success"] == 0
    assert 0.9 <= found["probe_duration_seconds"] < 1.5
