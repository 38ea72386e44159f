"""The probe exporter: uptime and latency of every portal and one-stop endpoint, seen from outside.

``GET /probe?target=<target>&module=<module>`` runs one probe now and answers its gauges in
blackbox_exporter's vocabulary, so its dashboards and alerts work unchanged:

- every module: ``probe_success``, ``probe_duration_seconds``;
- ``http``: ``probe_http_duration_seconds{phase="resolve|connect|tls|processing|transfer"}``
  (summed over redirects), ``probe_http_status_code``, ``probe_http_content_length`` (-1 when
  the server did not say), ``probe_http_uncompressed_body_length``, ``probe_http_redirects``,
  ``probe_http_ssl``, ``probe_http_version``, ``probe_failed_due_to_regex``,
  ``probe_dns_lookup_time_seconds``, ``probe_ip_protocol``, ``probe_ip_addr_hash``, and over
  TLS ``probe_ssl_earliest_cert_expiry`` and ``probe_tls_version_info{version="TLS 1.3"}``;
- ``tcp``: ``probe_dns_lookup_time_seconds``, ``probe_ip_protocol``, ``probe_ip_addr_hash``,
  ``probe_failed_due_to_regex``, and with ``tls`` the two TLS gauges above;
- ``journey``: ``probe_journey_step_success{step}`` and
  ``probe_journey_step_duration_seconds{step}`` (see :mod:`.journey` for the steps).

Not emitted (nothing here needs them): ``probe_ssl_last_chain_expiry_timestamp_seconds``,
``probe_http_last_modified_timestamp_seconds``. The only labels are ``phase``, ``version``
and ``step``, from fixed sets; the target never becomes a label here (Prometheus adds
``instance`` from its own targets), so nothing a client sends grows the series.

An unknown module, a missing or malformed target, or a malformed timeout header answers
HTTP 400 with a one-line reason, as blackbox does. ``&debug=true`` adds why the probe
failed above the gauges, for a person with curl.

**Timeout.** Each probe ends by ``min(module timeout, X-Prometheus-Scrape-Timeout-Seconds −
timeout_offset)`` (the header defaults to 120 s; a header no larger than the offset leaves
half of it), so the answer reaches Prometheus before it gives up on the scrape and a stalled
target reads as ``probe_success 0``, not as a missing scrape.

**Why libcurl (pycurl).** libcurl measures the phases itself (NAMELOOKUP, CONNECT,
APPCONNECT, STARTTRANSFER, TOTAL map one-to-one onto blackbox's resolve, connect, tls,
processing, transfer), resolves names in a thread of its own so a hung resolver still ends
at the timeout (``socket.getaddrinfo`` cannot be interrupted), follows HTTP/2 and cookies,
sends multipart uploads for the journey, and reads the server's whole certificate chain
(Python 3.11's ``ssl`` shows only the leaf). Hand-written timing over ``socket``/``ssl``/
``http.client`` would re-implement all of that. pycurl 7.49.0 ships a manylinux_2_28 cp311
wheel that bundles its libcurl and OpenSSL, so the hosts install it offline from the
wheelhouse; the cost is that a libcurl or OpenSSL fix arrives with a new pycurl wheel, not
with Debian's security updates. One thing libcurl does not expose is the negotiated TLS
version: it is read from libcurl's verbose text ("SSL connection using TLSv1.3 / ..."),
switched on for TLS transfers only. libcurl's ``tls`` phase also holds the client's own TLS
set-up (a new OpenSSL context per connection), which Go's blackbox does before its clock
starts: on an idle host a fraction of a millisecond, more on a starved one (see
``bench/probe.py``).

**Configuration** (the JSON file the deploy writes; checked at start, an unknown key or an
unreadable CA file is an error)::

    {
      "timeout_offset": 0.5,                 # seconds (or "500ms"); default 0.5
      "modules": {
        "<name>": {                          # letters, digits, _ . -
          "prober": "http" | "tcp" | "journey",
          "timeout": "5s",                   # or seconds; default 10 s
          "http": {                          # prober http only
            "method": "GET", "headers": {"Accept-Language": "vi"}, "body": "",
            "valid_status_codes": [200, 204],   # default: any 2xx
            "no_follow_redirects": false,       # redirects followed, at most 10
            "fail_if_ssl": false, "fail_if_not_ssl": false,
            "fail_if_body_matches_regexp": ["Lỗi hệ thống"],
            "fail_if_body_not_matches_regexp": ["\\"status\\": ?\\"ready\\""],
            "body_size_limit": 10485760,        # bytes kept for the regexps
            "preferred_ip_protocol": "ip6", "ip_protocol_fallback": true,
            "tls_config": {"ca_file": "/etc/...", "server_name": "portal.h56", "insecure_skip_verify": false}
          },
          "tcp": {                           # prober tcp only
            "tls": false, "tls_config": {...},
            "query_response": [{"expect": "^SSH-2.0-"}, {"send": "SSH-2.0-portalops-probe"}],
            "preferred_ip_protocol": "ip6", "ip_protocol_fallback": true
          },
          "journey": {                       # prober journey only; see .journey
            "citizen": "001099000001",          # the SSO stand-in's test citizen (12 digits)
            "sso_issuer": "http://198.18.0.5:8900/sso",  # login redirects are followed only to here
            "catalogue_query": "khai sinh", "procedure_code": "HT.c.001",
            "unit_code": "000.00.00.H56",       # optional: the unit the test dossier is filed with
            "attachment_bytes": 16384,          # 64 .. 1048576
            "tls_config": {"ca_file": "..."}    # no server_name: the target is the public URL
          }
        }
      }
    }

Regular expressions are Python's (``re``), matched against the body decoded as UTF-8.
``tls_config.ca_file`` defaults to Debian's bundle (``/etc/ssl/certs/ca-certificates.crt``);
the lab's portals need the deploy's CA there. ``server_name`` connects to the target's
address but checks the certificate for (and, over HTTP, asks for the Host) that name.
Targets: ``http`` takes a URL (``http://`` assumed without a scheme), ``tcp`` takes
``host:port``, ``journey`` the portal's public base URL. The modules the deploy expects::

    "http_2xx":     {"prober": "http", "timeout": "5s"}
    "https_portal": {"prober": "http", "timeout": "5s", "http": {"fail_if_not_ssl": true,
                     "tls_config": {"ca_file": "/etc/portalops-exporter/tls/ca.pem"}}}
    "tcp_connect":  {"prober": "tcp", "timeout": "5s"}
    "tls_expiry":   {"prober": "tcp", "timeout": "5s", "tcp": {"tls": true,
                     "tls_config": {"ca_file": "/etc/portalops-exporter/tls/ca.pem"}}}
    "ssh_banner":   {"prober": "tcp", "timeout": "5s", "tcp": {"query_response":
                     [{"expect": "^SSH-2.0-"}, {"send": "SSH-2.0-portalops-probe"}]}}
    "journey":      {"prober": "journey", "timeout": "30s", "journey": {...}}

**Serving**: :class:`ProbeExporter` is both the WSGI app and a collector of its own
counters (``portalops_probe_requests_total{module,result}``,
``portalops_probe_module_unknown_total``)::

    exporter = make_app(json.loads(Path("/etc/portalops-exporter/probe.json").read_text()))
    registry.register(Scraped("portalops_probe", exporter))
    serve(routes(registry, extra={"/probe": exporter}), address, port, tls)
"""

from portalops_exporters.probe.app import BadRequest, ProbeExporter, make_app, probe_timeout
from portalops_exporters.probe.config import ConfigError, ProbeConfig, load_config

__all__ = ["BadRequest", "ConfigError", "ProbeConfig", "ProbeExporter", "load_config", "make_app", "probe_timeout"]
