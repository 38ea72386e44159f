"""The /probe endpoint itself: refusals like blackbox's, the timeout, concurrency, labels, its own counters."""

import threading
import time
from urllib.parse import urlencode

import pytest

from portalops_exporters.probe import BadRequest, load_config, probe_timeout
from tests.probe_servers import Page, WebServer, exporter_at, fetch, samples

MODULES = {
    "http_2xx": {"prober": "http", "timeout": "5s"},
    "tcp_connect": {"prober": "tcp", "timeout": "5s"},
    "journey": {"prober": "journey", "timeout": "20s",
                "journey": {"citizen": "001099000001", "sso_issuer": "http://127.0.0.1:9/sso",
                            "catalogue_query": "khai sinh", "procedure_code": "HT.c.001"}},
}


@pytest.fixture(scope="module")
def exporter():
    with exporter_at({"modules": MODULES}) as url:
        yield url


def ask(exporter: str, headers: dict | None = None, **params) -> tuple[int, str]:
    return fetch(f"{exporter}/probe?{urlencode(params)}", headers)


def test_an_unknown_module_is_refused_with_400_naming_the_known_ones(exporter):
    status, text = ask(exporter, module="icmp", target="127.0.0.1")
    assert status == 400
    assert "Unknown module 'icmp'" in text and "http_2xx, journey, tcp_connect" in text


def test_a_missing_target_is_refused_with_400(exporter):
    assert ask(exporter, module="http_2xx") == (400, "Target parameter is missing\n")


@pytest.mark.parametrize("module, target", [
    ("http_2xx", "ftp://127.0.0.1/"),
    ("http_2xx", "http://"),
    ("http_2xx", "http://127.0.0.1:99999/"),
    ("tcp_connect", "127.0.0.1"),
    ("tcp_connect", "127.0.0.1:22/path"),
    ("journey", "http://127.0.0.1:8000/some/page"),
])
def test_a_malformed_target_is_refused_with_400(exporter, module, target):
    status, text = ask(exporter, module=module, target=target)
    assert status == 400 and repr(target) in text


def test_a_malformed_scrape_timeout_header_is_refused_with_400(exporter):
    status, text = ask(exporter, {"X-Prometheus-Scrape-Timeout-Seconds": "soon"}, module="http_2xx",
                       target="127.0.0.1")
    assert status == 400 and "X-Prometheus-Scrape-Timeout-Seconds" in text


def test_the_probe_timeout_is_the_scrape_timeout_less_the_offset_capped_by_the_module():
    module = load_config({"modules": {"m": {"prober": "http", "timeout": "5s"}}}).modules["m"]
    assert probe_timeout("10", module, 0.5) == 5.0  # the module's cap
    assert probe_timeout("3", module, 0.5) == 2.5  # Prometheus's timeout less the margin
    assert probe_timeout(None, module, 0.5) == 5.0  # no header: blackbox's 120 s, capped
    assert probe_timeout("0.4", module, 0.5) == 0.2  # smaller than the margin: half of it
    with pytest.raises(BadRequest):
        probe_timeout("-1", module, 0.5)


def test_probes_run_at_the_same_time_as_prometheus_sends_them(exporter):
    """Eight probes of a page that takes 1 s answer in far less than the 8 s one after another would take."""
    answers = []
    with WebServer({"/slow": Page(delay=1.0)}) as site:
        def one():
            answers.append(samples(ask(exporter, module="http_2xx", target=site.url + "/slow")[1]))
        threads = [threading.Thread(target=one) for _ in range(8)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
    assert [a["probe_success"] for a in answers] == [1] * 8
    assert elapsed < 4


def test_no_label_carries_the_target_or_anything_the_client_sent(exporter):
    with WebServer({"/": Page(status=500)}) as site:
        status, text = ask(exporter, module="http_2xx", target=site.url + "/?hoso=000.00.14.H56-200203-0118")
    labels = {line.split("{")[1].split("=")[0] for line in text.splitlines() if "{" in line and not line.startswith("#")}
    assert status == 200
    assert labels <= {"phase", "version"}
    assert "000.00.14.H56" not in text and "127.0.0.1" not in text


def test_debug_says_why_a_probe_failed(exporter):
    with WebServer({"/": Page(status=503)}) as site:
        status, text = ask(exporter, module="http_2xx", target=site.url + "/", debug="true")
    assert status == 200
    assert "status 503 is not 2xx" in text and "probe_success 0.0" in text


def test_metrics_count_probes_by_module_and_result(tmp_path):
    with exporter_at({"modules": MODULES}) as exporter, WebServer() as site:
        ask(exporter, module="http_2xx", target=site.url + "/")
        ask(exporter, module="http_2xx", target="http://127.0.0.1:9/")
        ask(exporter, module="nope", target=site.url)
        found = samples(fetch(exporter + "/metrics")[1])
    assert found['portalops_probe_requests_total{module="http_2xx",result="success"}'] == 1
    assert found['portalops_probe_requests_total{module="http_2xx",result="failure"}'] == 1
    assert found["portalops_probe_module_unknown_total"] == 1
    assert found["portalops_probe_up"] == 1
