"""The HTTP(S) prober, through the exporter's /probe endpoint, against local servers: blackbox's
gauges, status and body checks, the private CA, redirects, refusals and stalls."""

from urllib.parse import urlencode

import pytest

from tests.probe_servers import (Ca, Page, SilentServer, WebServer, closed_port, exporter_at, fetch,
                                               samples)

PORTAL_PAGE = "<html><title>Cổng Dịch vụ công tỉnh Thanh Hóa</title></html>".encode()
ERROR_PAGE = "<html><title>Cổng Dịch vụ công</title>Lỗi hệ thống, vui lòng thử lại</html>".encode()


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    return Ca(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="module")
def exporter(ca):
    portal_body = {"fail_if_body_matches_regexp": ["Lỗi hệ thống"],
                   "fail_if_body_not_matches_regexp": ["Dịch vụ công"]}
    modules = {
        "http_2xx": {"prober": "http", "timeout": "5s"},
        "https_portal": {"prober": "http", "timeout": "5s",
                         "http": {"fail_if_not_ssl": True, "tls_config": {"ca_file": str(ca.ca_file)}}},
        "portal_page": {"prober": "http", "timeout": "5s", "http": portal_body},
        "gone_expected": {"prober": "http", "timeout": "5s", "http": {"valid_status_codes": [404]}},
        "no_redirects": {"prober": "http", "timeout": "5s", "http": {"no_follow_redirects": True}},
        "portal_by_name": {"prober": "http", "timeout": "5s",
                           "http": {"tls_config": {"ca_file": str(ca.ca_file), "server_name": "portal.h56.test"}}},
    }
    with exporter_at({"modules": modules}) as url:
        yield url


def probe(exporter: str, module: str, target: str, scrape_timeout: float | None = None) -> dict[str, float]:
    headers = {"X-Prometheus-Scrape-Timeout-Seconds": str(scrape_timeout)} if scrape_timeout else {}
    status, text = fetch(f"{exporter}/probe?{urlencode({'module': module, 'target': target})}", headers)
    assert status == 200, text
    return samples(text)


def test_a_healthy_page_succeeds_with_its_status_length_and_http_version(exporter):
    with WebServer({"/": Page(body=PORTAL_PAGE)}) as site:
        found = probe(exporter, "http_2xx", site.url + "/")
    assert found["probe_success"] == 1
    assert found["probe_http_status_code"] == 200
    assert found["probe_http_content_length"] == len(PORTAL_PAGE)
    assert found["probe_http_uncompressed_body_length"] == len(PORTAL_PAGE)
    assert found["probe_http_version"] == 1.1
    assert found["probe_http_ssl"] == 0 and found["probe_http_redirects"] == 0
    assert found["probe_ip_protocol"] == 4


def test_the_phases_are_blackboxs_and_a_slow_backend_shows_as_processing(exporter):
    with WebServer({"/slow": Page(delay=0.3)}) as site:
        found = probe(exporter, "http_2xx", site.url + "/slow")
    phases = {p: found[f'probe_http_duration_seconds{{phase="{p}"}}']
              for p in ("resolve", "connect", "tls", "processing", "transfer")}
    assert found["probe_success"] == 1
    assert phases["processing"] >= 0.3
    assert phases["tls"] == 0  # plain HTTP
    assert sum(phases.values()) <= found["probe_duration_seconds"]


def test_https_against_the_private_ca_reports_the_tls_version_and_the_certificate_expiry(exporter, ca):
    cert, key, not_after = ca.issue(days=40)
    with WebServer({"/readyz": Page(body=b'{"status": "ready"}')}, tls=(cert, key)) as site:
        found = probe(exporter, "https_portal", site.url + "/readyz")
    assert found["probe_success"] == 1
    assert found["probe_http_ssl"] == 1
    assert found['probe_tls_version_info{version="TLS 1.3"}'] == 1
    assert found["probe_ssl_earliest_cert_expiry"] == not_after.timestamp()
    assert found['probe_http_duration_seconds{phase="tls"}'] > 0


def test_a_certificate_from_another_ca_fails_the_https_probe(exporter, tmp_path):
    cert, key, _ = Ca(tmp_path / "other").issue()
    with WebServer(tls=(cert, key)) as site:
        found = probe(exporter, "https_portal", site.url + "/")
    assert found["probe_success"] == 0
    assert found["probe_http_status_code"] == 0
    assert "probe_ssl_earliest_cert_expiry" not in found


def test_a_plain_http_answer_fails_a_module_that_requires_tls(exporter):
    with WebServer() as site:
        found = probe(exporter, "https_portal", site.url + "/")
    assert found["probe_http_status_code"] == 200
    assert found["probe_success"] == 0


def test_a_closed_port_fails_with_no_status(exporter):
    found = probe(exporter, "http_2xx", f"http://127.0.0.1:{closed_port()}/")
    assert found["probe_success"] == 0
    assert found["probe_http_status_code"] == 0
    assert found['probe_http_duration_seconds{phase="processing"}'] == 0
    assert found["probe_ip_protocol"] == 4  # the target's family, as blackbox reports it


def test_a_stalled_server_fails_once_the_scrape_timeout_less_the_offset_has_passed(exporter):
    with SilentServer() as hung:
        found = probe(exporter, "http_2xx", f"http://127.0.0.1:{hung.port}/", scrape_timeout=1.5)
    assert found["probe_success"] == 0
    # 1.5 s from Prometheus less the 0.5 s margin: the answer comes before Prometheus gives up.
    assert 0.9 <= found["probe_duration_seconds"] < 1.45


def test_a_page_saying_system_error_fails_due_to_regex(exporter):
    with WebServer({"/": Page(body=ERROR_PAGE)}) as site:
        found = probe(exporter, "portal_page", site.url + "/")
    assert found["probe_http_status_code"] == 200
    assert found["probe_failed_due_to_regex"] == 1
    assert found["probe_success"] == 0


def test_a_page_without_the_required_phrase_fails_due_to_regex_and_one_with_it_passes(exporter):
    with WebServer({"/blank": Page(body=b"<html></html>"), "/": Page(body=PORTAL_PAGE)}) as site:
        blank = probe(exporter, "portal_page", site.url + "/blank")
        portal = probe(exporter, "portal_page", site.url + "/")
    assert (blank["probe_success"], blank["probe_failed_due_to_regex"]) == (0, 1)
    assert (portal["probe_success"], portal["probe_failed_due_to_regex"]) == (1, 0)


def test_valid_status_codes_replace_the_2xx_default(exporter):
    with WebServer({"/gone": Page(status=404, body=b"gone")}) as site:
        default = probe(exporter, "http_2xx", site.url + "/gone")
        expected = probe(exporter, "gone_expected", site.url + "/gone")
    assert (default["probe_success"], default["probe_http_status_code"]) == (0, 404)
    assert expected["probe_success"] == 1


def test_redirects_are_followed_counted_and_their_phases_summed(exporter):
    moved = Page(status=302, body=b"", headers=(("Location", "/new"),), delay=0.2)
    with WebServer({"/old": moved, "/new": Page(body=PORTAL_PAGE, delay=0.2)}) as site:
        followed = probe(exporter, "http_2xx", site.url + "/old")
        refused = probe(exporter, "no_redirects", site.url + "/old")
        assert site.hits == {"/old": 2, "/new": 1}
    assert (followed["probe_success"], followed["probe_http_redirects"]) == (1, 1)
    assert followed["probe_http_status_code"] == 200
    assert followed['probe_http_duration_seconds{phase="processing"}'] >= 0.4  # both hops' waits
    assert (refused["probe_success"], refused["probe_http_status_code"]) == (0, 302)


def test_server_name_checks_the_certificate_of_a_name_while_probing_an_address(exporter, ca):
    cert, key, _ = ca.issue(name="portal.h56.test", addresses=())
    with WebServer({"/": Page(body=PORTAL_PAGE)}, tls=(cert, key)) as site:
        by_address = probe(exporter, "https_portal", site.url + "/")
        by_name = probe(exporter, "portal_by_name", site.url + "/")
    assert by_address["probe_success"] == 0  # the certificate does not name 127.0.0.1
    assert (by_name["probe_success"], by_name["probe_http_ssl"]) == (1, 1)


def test_a_cookie_one_probe_received_never_goes_with_the_next(exporter):
    seen = []

    def remember(handler):
        seen.append(handler.headers.get("Cookie"))
        handler.send_response(200)
        handler.send_header("Set-Cookie", "dvc_session=abc; Path=/")
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    with WebServer({"/": remember}) as site:
        for _ in range(3):
            assert probe(exporter, "http_2xx", site.url + "/")["probe_success"] == 1
    assert seen == [None, None, None]
