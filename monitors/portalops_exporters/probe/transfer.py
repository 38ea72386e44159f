"""One libcurl handle set up for probing, and what it measured: phase times, address, TLS facts.

Every probe makes a new connection, a new DNS lookup and a full TLS handshake (no
keep-alive, no DNS cache, no TLS session resumption), as blackbox_exporter does, so the
phases measure what a citizen's first request costs and a resumed session cannot hide
the server's certificate. The easy handles themselves are reused from a pool: a reused
handle keeps libcurl's parsed CA store, and parsing Debian's CA bundle again costs about
5 ms of CPU per probe (measured: 6.8 ms per HTTPS probe on a fresh handle, 1.2 ms reused).
"""

from __future__ import annotations

import calendar
import ipaddress
import re
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import pycurl

from portalops_exporters.probe.config import TlsSettings
from portalops_exporters.probe.result import ProbeResult

# blackbox_exporter's phases of an HTTP request, in order.
PHASES = ("resolve", "connect", "tls", "processing", "transfer")
# libcurl's CURLINFO_HTTP_VERSION values, as the number blackbox reports.
HTTP_VERSIONS = {pycurl.CURL_HTTP_VERSION_1_0: 1.0, pycurl.CURL_HTTP_VERSION_1_1: 1.1,
                 pycurl.CURL_HTTP_VERSION_2_0: 2.0, 30: 3.0}
# Says in the targets' access logs which requests are probes.
USER_AGENT = "portalops-probe"
IP_RESOLVE = {"any": pycurl.IPRESOLVE_WHATEVER, "ip4": pycurl.IPRESOLVE_V4, "ip6": pycurl.IPRESOLVE_V6}
# libcurl states the negotiated version only in its verbose text ("SSL connection using TLSv1.3 / ...").
_TLS_VERSION = re.compile(rb"SSL connection using (TLSv1(?:\.\d)?|SSLv3)")
_TLS_NAMES = {b"TLSv1": "TLS 1.0", b"TLSv1.1": "TLS 1.1", b"TLSv1.2": "TLS 1.2", b"TLSv1.3": "TLS 1.3",
              b"SSLv3": "unknown"}
# CURLOPT_CA_CACHE_TIMEOUT (libcurl 7.87+), which pycurl has no name for: a CA file the deploy
# rotates is read again within this many seconds by a pooled handle.
CA_CACHE_TIMEOUT, CA_CACHE_SECONDS = 321, 300
# Idle handles kept; more probes in flight than this simply make (and later free) new ones.
POOL_SIZE = 64


class Timeout(Exception):
    """The probe's time ran out before this transfer could start."""


def remaining_ms(deadline: float) -> int:
    """Milliseconds left until ``deadline`` (time.monotonic()); Timeout when none are."""
    left = int((deadline - time.monotonic()) * 1000)
    if left <= 0:
        raise Timeout("the probe's time ran out")
    return left


def describe(error: pycurl.error) -> str:
    """A curl error as a person reads it: libcurl's message and its number (man libcurl-errors)."""
    code, message = error.args[0], error.args[1] if len(error.args) > 1 else "no message"
    return f"{message} (curl error {code})"


class _Pool:
    """Idle easy handles, each used by one probe at a time."""

    def __init__(self, size: int):
        self.size, self._idle, self._lock = size, [], threading.Lock()

    def take(self) -> pycurl.Curl:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return pycurl.Curl()

    def give(self, curl: pycurl.Curl) -> None:
        # reset() keeps cookies (and live connections, which FORBID_REUSE never leaves): a probe's
        # cookies, like a journey's session, must not reach the next probe.
        curl.setopt(pycurl.COOKIELIST, "ALL")
        curl.reset()
        with self._lock:
            if len(self._idle) < self.size:
                self._idle.append(curl)
                return
        curl.close()


_pool = _Pool(POOL_SIZE)


class Handle:
    """A libcurl easy handle configured for one probe; ``close()`` it when done.

    ``keeps_connection``: the prober reads and writes on the connection after ``perform``
    (CONNECT_ONLY), so the handle is freed, never pooled: a pooled handle would hold the
    target's connection open.
    """

    def __init__(self, tls: TlsSettings, ip_protocol: str = "any", http_only: bool = True,
                 keeps_connection: bool = False):
        self.keeps_connection = keeps_connection
        self.curl = c = pycurl.Curl() if keeps_connection else _pool.take()
        self.tls_version: str | None = None
        self.server_name = tls.server_name
        c.setopt(pycurl.USERAGENT, USER_AGENT)
        c.setopt(pycurl.NOSIGNAL, 1)  # threads: libcurl must not use SIGALRM for timeouts
        c.setopt(pycurl.FORBID_REUSE, 0 if keeps_connection else 1)
        c.setopt(pycurl.FRESH_CONNECT, 1)
        c.setopt(pycurl.DNS_CACHE_TIMEOUT, 0)
        c.setopt(pycurl.SSL_SESSIONID_CACHE, 0)
        c.setopt(CA_CACHE_TIMEOUT, CA_CACHE_SECONDS)
        c.setopt(pycurl.IPRESOLVE, IP_RESOLVE[ip_protocol])
        if http_only:
            # A redirect must not take the prober to file://, ftp:// or anything but the web.
            c.setopt(pycurl.PROTOCOLS, pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS)
            c.setopt(pycurl.REDIR_PROTOCOLS, pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS)
        c.setopt(pycurl.CAINFO, tls.ca_file)
        if tls.insecure_skip_verify:
            c.setopt(pycurl.SSL_VERIFYPEER, 0)
            c.setopt(pycurl.SSL_VERIFYHOST, 0)
        c.setopt(pycurl.OPT_CERTINFO, 1)
        c.setopt(pycurl.DEBUGFUNCTION, self._debug)

    def _debug(self, kind: int, text: bytes) -> None:
        if kind == pycurl.INFOTYPE_TEXT and (match := _TLS_VERSION.search(text)):
            self.tls_version = _TLS_NAMES[match.group(1)]

    def aim(self, url: str, first: bool = True) -> None:
        """Point the next transfer at ``url``.

        On the first hop a ``server_name`` is spoken to at the URL's address (CONNECT_TO);
        later hops go where the redirect says. libcurl's verbose text, the only place it
        names the TLS version, is switched on for TLS hops alone: each line of it is a
        call into Python inside the timed transfer.
        """
        parts = urlsplit(url)
        if first and self.server_name:
            port = parts.port or (443 if parts.scheme == "https" else 80)
            host = f"[{parts.hostname}]" if ":" in (parts.hostname or "") else parts.hostname
            url = parts._replace(netloc=f"{self.server_name}:{port}").geturl()
            self.curl.setopt(pycurl.CONNECT_TO, [f"{self.server_name}:{port}:{host}:{port}"])
        self.curl.setopt(pycurl.URL, url)
        self.curl.setopt(pycurl.VERBOSE, parts.scheme == "https")

    def perform(self, deadline: float) -> None:
        """Run the transfer within what is left of the probe's time (pycurl.error or Timeout if not)."""
        self.tls_version = None
        self.curl.setopt(pycurl.TIMEOUT_MS, remaining_ms(deadline))
        self.curl.perform()

    def phases(self) -> dict[str, float]:
        """The last transfer's time in each phase (a phase not reached is absent), blackbox's way.

        libcurl's marks are seconds from the transfer's start; blackbox's ``tls`` is the handshake
        alone and ``processing`` runs from the connection being ready to the first byte.
        """
        c = self.curl
        marks = {name: c.getinfo(getattr(pycurl, f"{name}_TIME"))
                 for name in ("NAMELOOKUP", "CONNECT", "APPCONNECT", "STARTTRANSFER", "TOTAL")}
        phases = {"resolve": marks["NAMELOOKUP"]}
        if marks["CONNECT"] <= 0:
            return phases
        phases["connect"] = marks["CONNECT"] - marks["NAMELOOKUP"]
        ready = marks["CONNECT"]
        if marks["APPCONNECT"] > 0:
            phases["tls"] = marks["APPCONNECT"] - marks["CONNECT"]
            ready = marks["APPCONNECT"]
        if marks["STARTTRANSFER"] <= 0:
            return phases
        phases["processing"] = marks["STARTTRANSFER"] - ready
        phases["transfer"] = marks["TOTAL"] - marks["STARTTRANSFER"]
        return phases

    def primary_ip(self) -> str:
        """The address the last transfer connected to ('' if it never got that far)."""
        return self.curl.getinfo(pycurl.PRIMARY_IP) or ""

    def earliest_cert_expiry(self) -> float | None:
        """The earliest notAfter (Unix time) of the certificates the server sent, or None."""
        expiries = []
        for cert in self.curl.getinfo(pycurl.INFO_CERTINFO) or []:
            for key, value in cert:
                if key == "Expire date":
                    # OpenSSL's print form, "Dec  7 05:12:45 2026 GMT"; always GMT.
                    expiries.append(calendar.timegm(time.strptime(" ".join(value.split()), "%b %d %H:%M:%S %Y %Z")))
        return float(min(expiries)) if expiries else None

    def close(self) -> None:
        """Give the handle back to the pool (or free it, with its connection, when it keeps one)."""
        if self.keeps_connection:
            self.curl.close()
        else:
            _pool.give(self.curl)


def report_address(result: ProbeResult, handle: Handle, lookup_seconds: float, host: str | None) -> None:
    """blackbox's address gauges: DNS lookup time, IP family, and a hash that changes with the address.

    libcurl names the address only once it tried to connect; a target given as an address
    (the inventory's) still reports its family when the connection was refused, as blackbox does.
    """
    result.set("probe_dns_lookup_time_seconds", "Returns the time taken for probe dns lookup in seconds",
               lookup_seconds)
    address = handle.primary_ip()
    if not address and host:
        try:
            address = str(ipaddress.ip_address(host))
        except ValueError:
            pass
    result.set("probe_ip_protocol", "Specifies whether probe ip protocol is IP4 or IP6",
               (6 if ":" in address else 4) if address else 0)
    if address:
        result.set("probe_ip_addr_hash", "Specifies the hash of IP address. It's useful to detect if the IP "
                   "address changes.", ip_hash(address))


def ip_hash(address: str) -> float:
    """FNV-1a (32 bits) of the address's bytes (4 for IPv4, 16 for IPv6), as blackbox_exporter computes it."""
    value = 0x811C9DC5
    for byte in ipaddress.ip_address(address).packed:
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return float(value)


def report_tls(result: ProbeResult, handle: Handle) -> None:
    """blackbox's TLS gauges for the last transfer: earliest certificate expiry and the TLS version."""
    expiry = handle.earliest_cert_expiry()
    if expiry is not None:
        result.set("probe_ssl_earliest_cert_expiry", "Returns earliest SSL cert expiry in unixtime", expiry)
    result.set("probe_tls_version_info", "Contains the TLS version used", 1, version=handle.tls_version or "unknown")


@dataclass(frozen=True)
class Address:
    """A probe target's host and port, as parsed from ``target``."""

    host: str
    port: int

    @property
    def url_host(self) -> str:
        """The host as it goes in a URL (an IPv6 address in brackets)."""
        return f"[{self.host}]" if ":" in self.host else self.host
