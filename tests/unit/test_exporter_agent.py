"""The exporters' shared parts: ``<name>_up`` and scrape duration, mutual TLS on scrapes, and an
agent configuration that is refused by name when it is wrong."""

import ssl
import urllib.request

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from deploy.tls import host_certificate
from portalops_exporters.cli import ConfigError, build
from portalops_exporters.exporter import Scraped
from portalops_exporters.server import Tls, routes, serve


class Dossiers:
    def __init__(self, fail_after_first=False):
        self.fail_after_first = fail_after_first

    def collect(self):
        family = GaugeMetricFamily("portalops_test_dossiers", "Dossiers.", labels=["unit_code"])
        family.add_metric(["000.17.22.H56"], 7)
        yield family
        if self.fail_after_first:
            raise OSError("database went away")


def exposition(collector) -> str:
    registry = CollectorRegistry()
    registry.register(Scraped("portalops_test", collector))
    return generate_latest(registry).decode()


def test_a_working_collector_is_up_and_says_how_long_it_took():
    text = exposition(Dossiers())
    assert 'portalops_test_dossiers{unit_code="000.17.22.H56"} 7.0' in text
    assert "portalops_test_up 1.0" in text
    assert "portalops_test_scrape_duration_seconds " in text


def test_a_collector_that_fails_halfway_is_down_and_shows_none_of_its_figures():
    text = exposition(Dossiers(fail_after_first=True))
    assert "portalops_test_up 0.0" in text
    assert "portalops_test_dossiers" not in text


@pytest.fixture
def tls_server(tmp_path):
    chain, key, ca = host_certificate(tmp_path / "ca", "xa-1", "127.0.0.1", None)
    for name, text in (("cert.pem", chain), ("key.pem", key), ("ca.pem", ca)):
        (tmp_path / name).write_text(text)
    registry = CollectorRegistry()
    registry.register(Scraped("portalops_test", Dossiers()))
    server, _ = serve(routes(registry), "127.0.0.1", 0,
                      Tls(str(tmp_path / "cert.pem"), str(tmp_path / "key.pem"), str(tmp_path / "ca.pem")))
    yield tmp_path, server.server_port
    server.shutdown()


def _client(directory, with_certificate: bool) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(directory / "ca.pem"))
    context.check_hostname = False
    if with_certificate:
        context.load_cert_chain(str(directory / "cert.pem"), str(directory / "key.pem"))
    return context


def test_scrapes_need_a_client_certificate_of_the_ca(tls_server):
    directory, port = tls_server
    with pytest.raises((ssl.SSLError, ConnectionError, urllib.error.URLError)):
        urllib.request.urlopen(f"https://127.0.0.1:{port}/metrics", context=_client(directory, False), timeout=5).read()
    body = urllib.request.urlopen(f"https://127.0.0.1:{port}/metrics", context=_client(directory, True),
                                  timeout=5).read().decode()
    assert "portalops_test_up 1.0" in body


def test_an_unknown_collector_or_option_is_refused_by_name():
    with pytest.raises(ConfigError, match="unknown collector.*dosiers"):
        build({"collectors": {"dosiers": {}}})
