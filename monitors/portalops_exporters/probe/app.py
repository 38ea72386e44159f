"""``/probe?target=...&module=...``: blackbox_exporter's endpoint, answering one probe per request."""

from __future__ import annotations

import logging
import threading
import time
from urllib.parse import parse_qs, urlsplit

from prometheus_client.core import CounterMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from portalops_exporters.probe.config import Module, ProbeConfig, load_config
from portalops_exporters.probe.http import probe_http
from portalops_exporters.probe.journey import probe_journey
from portalops_exporters.probe.result import ProbeResult
from portalops_exporters.probe.tcp import probe_tcp
from portalops_exporters.probe.transfer import Address

log = logging.getLogger("portalops_exporters.probe")

# blackbox_exporter's default module, and its scrape timeout when Prometheus sends none.
DEFAULT_MODULE = "http_2xx"
DEFAULT_SCRAPE_TIMEOUT = 120.0
TIMEOUT_HEADER = "HTTP_X_PROMETHEUS_SCRAPE_TIMEOUT_SECONDS"


class BadRequest(ValueError):
    """The request cannot be probed (unknown module, malformed target): HTTP 400 with this message."""


def probe_timeout(header: str | None, module: Module, offset: float) -> float:
    """Seconds this probe may take: Prometheus's scrape timeout less ``offset``, at most the module's timeout.

    Without the header, Prometheus's own default (120 s, as blackbox assumes) less the offset.
    A header no larger than the offset leaves half the header, so the answer still comes in time.
    """
    if header is None or header == "":
        scrape = DEFAULT_SCRAPE_TIMEOUT
    else:
        try:
            scrape = float(header)
        except ValueError:
            raise BadRequest(f"X-Prometheus-Scrape-Timeout-Seconds: {header!r} is not a number") from None
        if not scrape > 0:
            raise BadRequest("X-Prometheus-Scrape-Timeout-Seconds must be positive")
    allowed = scrape - offset if scrape > offset else scrape / 2
    return min(module.timeout, allowed)


def http_target(target: str) -> str:
    """An http(s) URL from ``target`` (``http://`` is assumed without a scheme, as blackbox does)."""
    url = target if "://" in target else f"http://{target}"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError as error:
        raise BadRequest(f"target {target!r} is not a URL: {error}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadRequest(f"target {target!r} is not an http(s) URL with a host")
    return url


def tcp_target(target: str) -> Address:
    """Host and port from ``host:port`` (``[v6]:port`` for an IPv6 address)."""
    try:
        parts = urlsplit(f"//{target}")
        port = parts.port
    except ValueError as error:
        raise BadRequest(f"target {target!r} is not host:port: {error}") from None
    if not parts.hostname or not port or parts.path or parts.query or parts.username:
        raise BadRequest(f"target {target!r} is not host:port")
    return Address(parts.hostname, port)


def journey_target(target: str) -> str:
    """The portal's base URL (scheme, host, port; no path)."""
    url = http_target(target)
    if urlsplit(url).path not in ("", "/") or urlsplit(url).query:
        raise BadRequest(f"target {target!r}: a journey starts at the portal's base URL, without a path")
    return url.rstrip("/")


PROBERS = {
    "http": (http_target, probe_http),
    "tcp": (tcp_target, probe_tcp),
    "journey": (journey_target, probe_journey),
}


class ProbeExporter:
    """The probe endpoint as a WSGI app, and a collector of its own counters.

    Serve it next to ``/metrics`` (each probe request runs in its own thread there, so
    Prometheus may probe many targets at once)::

        exporter = ProbeExporter(json.load(open("/etc/portalops-exporter/probe.json")))
        registry.register(Scraped("portalops_probe", exporter))
        serve(routes(registry, extra={"/probe": exporter}), address, port, tls)
    """

    def __init__(self, config: dict | ProbeConfig):
        self.config = config if isinstance(config, ProbeConfig) else load_config(config)
        self._lock = threading.Lock()
        self._probes: dict[tuple[str, str], int] = {}
        self._unknown_modules = 0

    def probe(self, module_name: str, target: str, timeout_header: str | None = None) -> ProbeResult:
        """Run one probe now and return its gauges (BadRequest if the module or target is wrong)."""
        module = self.config.modules.get(module_name)
        if module is None:
            with self._lock:
                self._unknown_modules += 1
            raise BadRequest(f"Unknown module {module_name!r}; modules: {', '.join(sorted(self.config.modules))}")
        if not target:
            raise BadRequest("Target parameter is missing")
        parse, prober = PROBERS[module.prober]
        parsed = parse(target)
        timeout = probe_timeout(timeout_header, module, self.config.timeout_offset)
        result = ProbeResult()
        started = time.monotonic()
        try:
            success = prober(parsed, module, started + timeout, result)
        except Exception as error:  # a prober's bug must give probe_success 0, not a 500 without gauges
            log.exception("probe %s of %s crashed", module_name, target)
            success = result.fail(f"internal error: {type(error).__name__}: {error}")
        duration = time.monotonic() - started
        result.set("probe_success", "Displays whether or not the probe was a success", 1 if success else 0)
        result.set("probe_duration_seconds", "Returns how long the probe took to complete in seconds", duration)
        if not success:
            log.debug("probe %s of %s failed in %.3f s: %s", module_name, target, duration, "; ".join(result.reasons))
        with self._lock:
            key = (module_name, "success" if success else "failure")
            self._probes[key] = self._probes.get(key, 0) + 1
        return result

    def __call__(self, environ, start_response):
        """WSGI: answer ``/probe?target=&module=[&debug=true]`` with the probe's gauges, or 400."""
        params = parse_qs(environ.get("QUERY_STRING", ""))
        target = params.get("target", [""])[0]
        module_name = params.get("module", [DEFAULT_MODULE])[0]
        try:
            result = self.probe(module_name, target, environ.get(TIMEOUT_HEADER))
        except BadRequest as error:
            start_response("400 Bad Request", [("Content-Type", "text/plain; charset=utf-8")])
            return [f"{error}\n".encode()]
        body = generate_latest(result)
        if params.get("debug", [""])[0] == "true":
            reasons = "".join(f"- {reason}\n" for reason in result.reasons) or "- none: the probe succeeded\n"
            start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
            return [f"Module {module_name}, target {target}\n\nWhy it failed:\n{reasons}\nMetrics:\n".encode() + body]
        start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST)])
        return [body]

    def collect(self):
        """The exporter's own counters: probes by module and result, and requests for unknown modules."""
        with self._lock:
            probes, unknown = dict(self._probes), self._unknown_modules
        family = CounterMetricFamily("portalops_probe_requests", "Probes answered, by module and result.",
                                     labels=["module", "result"])
        for (module, outcome), count in sorted(probes.items()):
            family.add_metric([module, outcome], count)
        yield family
        yield CounterMetricFamily("portalops_probe_module_unknown", "Probe requests naming a module the "
                                  "configuration does not have.", value=unknown)


def make_app(config: dict) -> ProbeExporter:
    """The ``/probe`` WSGI app for ``config`` (see the package docstring); ConfigError if it cannot work."""
    return ProbeExporter(config)
