"""The HTTP(S) prober: blackbox_exporter's ``http`` prober, on libcurl.

Redirects are followed here, one transfer per hop, rather than by libcurl: blackbox sums
each phase over every hop, and doing the hops ourselves gives exactly those sums (and a
chance to stop at ten, as Go's client does).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pycurl

from portalops_exporters.probe.config import HttpSettings, Module
from portalops_exporters.probe.result import ProbeResult
from portalops_exporters.probe.transfer import (HTTP_VERSIONS, PHASES, Handle, Timeout, describe, report_address,
                                                report_tls)

# Go's http.Client gives up after ten redirects, and blackbox_exporter with it.
MAX_REDIRECTS = 10


class Body:
    """The current hop's response body: always counted, kept only when a regular expression will read it."""

    def __init__(self, keep: bool, limit: int):
        self.keep, self.limit = keep, limit
        self.reset()

    def reset(self) -> None:
        """Forget the previous hop's body."""
        self.size, self.chunks, self.too_large = 0, [], False

    def write(self, chunk: bytes) -> int | None:
        """libcurl's write callback; returning 0 aborts a body larger than the limit."""
        self.size += len(chunk)
        if self.keep:
            if self.size > self.limit:
                self.too_large = True
                return 0
            self.chunks.append(chunk)
        return None

    def text(self) -> str:
        """The kept body as text (UTF-8; an invalid byte becomes U+FFFD rather than failing the match)."""
        return b"".join(self.chunks).decode("utf-8", errors="replace")


def _ask(c: pycurl.Curl, method: str, payload: str) -> None:
    """Set the request's method and body for the next transfer."""
    c.setopt(pycurl.NOBODY, method == "HEAD")
    if method == "HEAD":
        return
    if payload or method in ("POST", "PUT", "PATCH"):
        c.setopt(pycurl.POSTFIELDS, payload)
    else:
        c.setopt(pycurl.HTTPGET, 1)
    if method in ("GET", "POST"):
        c.unsetopt(pycurl.CUSTOMREQUEST)
    else:
        c.setopt(pycurl.CUSTOMREQUEST, method)


def probe_http(url: str, module: Module, deadline: float, result: ProbeResult) -> bool:
    """Probe ``url`` as ``module`` says, before ``deadline`` (time.monotonic()); set the gauges; True on success."""
    settings = module.http
    handle = Handle(settings.tls, settings.ip_protocol)
    try:
        return _probe(handle, url, settings, deadline, result)
    finally:
        handle.close()


def _probe(handle: Handle, url: str, settings: HttpSettings, deadline: float, result: ProbeResult) -> bool:
    c = handle.curl
    body = Body(keep=bool(settings.fail_if_body_matches_regexp or settings.fail_if_body_not_matches_regexp),
                limit=settings.body_size_limit)
    c.setopt(pycurl.WRITEFUNCTION, body.write)
    c.setopt(pycurl.COOKIEFILE, "")  # a cookie set by one hop goes with the next, as blackbox's cookie jar does
    c.setopt(pycurl.HTTPHEADER, [f"{name}: {value}" for name, value in settings.headers])
    totals = dict.fromkeys(PHASES, 0.0)
    method, payload, redirects, error, first = settings.method, settings.body, 0, None, True
    handle.aim(url)
    while True:
        _ask(c, method, payload)
        body.reset()
        try:
            handle.perform(deadline)
        except Timeout as timeout:
            error = str(timeout)
            break
        except pycurl.error as failure:
            error = "response body larger than body_size_limit" if body.too_large else describe(failure)
        hop = handle.phases()
        for phase, seconds in hop.items():
            totals[phase] += seconds
        if first:
            report_address(result, handle, hop["resolve"], urlsplit(url).hostname)
            first = False
        if error:
            break
        status, location = c.getinfo(pycurl.RESPONSE_CODE), c.getinfo(pycurl.REDIRECT_URL)
        if not (300 <= status < 400 and location):
            break
        if settings.no_follow_redirects:
            redirects = 1  # blackbox counts the redirect it was offered and refused
            break
        if redirects == MAX_REDIRECTS:
            error = f"more than {MAX_REDIRECTS} redirects"
            break
        redirects += 1
        if status in (301, 302, 303) and method != "HEAD":
            method, payload = "GET", ""  # what browsers and Go's client do
        handle.aim(location, first=False)

    status = c.getinfo(pycurl.RESPONSE_CODE)
    success = error is None and _status_ok(status, settings, result)
    if success and body.keep:
        success = _body_ok(body.text(), settings, result)
    else:
        result.set("probe_failed_due_to_regex", "Indicates if probe failed due to regex", 0)
    # "The final response came over TLS", as blackbox's resp.TLS != nil.
    secure = status > 0 and c.getinfo(pycurl.EFFECTIVE_URL).lower().startswith("https:")
    if secure:
        report_tls(result, handle)
    if success and secure and settings.fail_if_ssl:
        success = result.fail("the final response came over TLS (fail_if_ssl)")
    if success and not secure and settings.fail_if_not_ssl:
        success = result.fail("the final response did not come over TLS (fail_if_not_ssl)")
    if error:
        result.fail(error)

    for phase, seconds in totals.items():
        result.set("probe_http_duration_seconds", "Duration of http request by phase, summed over all redirects",
                   seconds, phase=phase)
    result.set("probe_http_status_code", "Response HTTP status code", status)
    result.set("probe_http_content_length", "Length of http content response",
               c.getinfo(pycurl.CONTENT_LENGTH_DOWNLOAD_T) if status else 0)
    result.set("probe_http_uncompressed_body_length", "Length of uncompressed response body", body.size)
    result.set("probe_http_redirects", "The number of redirects", redirects)
    result.set("probe_http_ssl", "Indicates if SSL was used for the final redirect", 1 if secure else 0)
    result.set("probe_http_version", "Returns the version of HTTP of the probe response",
               HTTP_VERSIONS.get(c.getinfo(pycurl.INFO_HTTP_VERSION), 0) if status else 0)
    return success


def _status_ok(status: int, settings: HttpSettings, result: ProbeResult) -> bool:
    if settings.valid_status_codes:
        if status in settings.valid_status_codes:
            return True
        return result.fail(f"status {status} is not one of {list(settings.valid_status_codes)}")
    return 200 <= status < 300 or result.fail(f"status {status} is not 2xx")


def _body_ok(text: str, settings: HttpSettings, result: ProbeResult) -> bool:
    failed = [p.pattern for p in settings.fail_if_body_matches_regexp if p.search(text)]
    missing = [p.pattern for p in settings.fail_if_body_not_matches_regexp if not p.search(text)]
    result.set("probe_failed_due_to_regex", "Indicates if probe failed due to regex", 1 if failed or missing else 0)
    for pattern in failed:
        result.fail(f"body matched {pattern!r} (fail_if_body_matches_regexp)")
    for pattern in missing:
        result.fail(f"body did not match {pattern!r} (fail_if_body_not_matches_regexp)")
    return not (failed or missing)
