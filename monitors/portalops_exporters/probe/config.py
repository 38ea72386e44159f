"""The probe modules, read from the deploy's JSON and checked once, at start.

The schema is documented in the package docstring (:mod:`portalops_exporters.probe`). Keys
follow blackbox_exporter's where the meaning is the same, so an operator who knows
``blackbox.yml`` reads this file without a manual; an unknown key is an error, never
ignored (a typo in ``fail_if_body_not_matches_regexp`` would otherwise pass every probe).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

PROBERS = ("http", "tcp", "journey")
# What Prometheus's header is reduced by, so the answer arrives before Prometheus gives up
# (blackbox_exporter's --timeout-offset has the same default).
DEFAULT_TIMEOUT_OFFSET = 0.5
# A module without a timeout never probes longer than this, even without Prometheus's header.
DEFAULT_MODULE_TIMEOUT = 10.0
# Debian's bundle (package ca-certificates): what "the system's CAs" means on the hosts.
SYSTEM_CA_FILE = "/etc/ssl/certs/ca-certificates.crt"
# A body kept for the regular expressions is capped: a runaway page must not fill the memory.
DEFAULT_BODY_SIZE_LIMIT = 10 * 1024 * 1024
# The SSO stand-in's citizens are 12-digit citizen numbers (dichvucong.standins.sso).
CITIZEN = re.compile(r"^\d{12}$")
UNIT_CODE = re.compile(r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)$")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


class ConfigError(ValueError):
    """The probe configuration cannot work; the message names the key."""


@dataclass(frozen=True)
class TlsSettings:
    """How a prober checks the server's certificate."""

    ca_file: str = SYSTEM_CA_FILE
    insecure_skip_verify: bool = False
    # The name the certificate must carry (and, for HTTP, the Host asked for) when the target
    # is an address: the inventory's targets are addresses, the certificates carry names too.
    server_name: str | None = None


@dataclass(frozen=True)
class HttpSettings:
    """An HTTP(S) probe: what to ask and what counts as an answer."""

    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: str = ""
    valid_status_codes: tuple[int, ...] = ()  # empty: any 2xx
    no_follow_redirects: bool = False
    fail_if_ssl: bool = False
    fail_if_not_ssl: bool = False
    fail_if_body_matches_regexp: tuple[re.Pattern, ...] = ()
    fail_if_body_not_matches_regexp: tuple[re.Pattern, ...] = ()
    body_size_limit: int = DEFAULT_BODY_SIZE_LIMIT
    ip_protocol: str = "any"  # "ip4", "ip6" or "any" (libcurl's choice, IPv6 first)
    tls: TlsSettings = field(default_factory=TlsSettings)


@dataclass(frozen=True)
class QueryStep:
    """One exchange of a TCP probe: wait for a line matching ``expect``, then ``send`` a line."""

    expect: re.Pattern | None = None
    send: str = ""


@dataclass(frozen=True)
class TcpSettings:
    """A TCP connect, optionally over TLS, optionally with a line-based exchange."""

    tls: bool = False
    tls_config: TlsSettings = field(default_factory=TlsSettings)
    query_response: tuple[QueryStep, ...] = ()
    ip_protocol: str = "any"


@dataclass(frozen=True)
class JourneySettings:
    """A citizen's walk through the portal, on a test citizen of the SSO stand-in."""

    citizen: str
    sso_issuer: str
    catalogue_query: str
    procedure_code: str
    unit_code: str | None = None
    attachment_bytes: int = 16 * 1024
    tls: TlsSettings = field(default_factory=TlsSettings)


@dataclass(frozen=True)
class Module:
    """A named probe: which prober, how long at most, and its settings."""

    name: str
    prober: str
    timeout: float
    http: HttpSettings = field(default_factory=HttpSettings)
    tcp: TcpSettings = field(default_factory=TcpSettings)
    journey: JourneySettings | None = None


@dataclass(frozen=True)
class ProbeConfig:
    """Every module, and the margin taken off Prometheus's scrape timeout."""

    modules: dict[str, Module]
    timeout_offset: float = DEFAULT_TIMEOUT_OFFSET


def load_config(raw: dict) -> ProbeConfig:
    """Check ``raw`` (the JSON the deploy writes) and return it as settings; ConfigError if it cannot work."""
    _only(raw, "", {"modules", "timeout_offset"})
    modules = raw.get("modules")
    if not isinstance(modules, dict) or not modules:
        raise ConfigError("'modules' must be an object naming at least one module")
    offset = _seconds(raw.get("timeout_offset", DEFAULT_TIMEOUT_OFFSET), "timeout_offset")
    return ProbeConfig({name: _module(name, spec) for name, spec in modules.items()}, offset)


def _seconds(value: Any, where: str) -> float:
    """Seconds from a number or a Go-style duration ("5s", "500ms", "1m"), as blackbox writes them."""
    if isinstance(value, bool):
        raise ConfigError(f"{where}: a duration, not {value!r}")
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str) and (match := _DURATION.match(value.strip())):
        seconds = float(match.group(1)) * _DURATION_UNITS[match.group(2)]
    else:
        raise ConfigError(f"{where}: {value!r} is not a duration (seconds, or like '5s', '500ms')")
    if seconds < 0:
        raise ConfigError(f"{where}: a duration cannot be negative")
    return seconds


def _only(spec: Any, where: str, allowed: set[str]) -> None:
    if not isinstance(spec, dict):
        raise ConfigError(f"{where or 'the configuration'}: must be an object")
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise ConfigError(f"{where or 'the configuration'}: unknown key(s) {', '.join(unknown)}; "
                          f"known: {', '.join(sorted(allowed))}")


def _module(name: str, spec: Any) -> Module:
    where = f"modules.{name}"
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise ConfigError(f"{where}: a module name is letters, digits, '_', '.', '-' (it becomes a label)")
    _only(spec, where, {"prober", "timeout", "http", "tcp", "journey"})
    prober = spec.get("prober")
    if prober not in PROBERS:
        raise ConfigError(f"{where}.prober: {prober!r}; one of {', '.join(PROBERS)}")
    timeout = _seconds(spec.get("timeout", DEFAULT_MODULE_TIMEOUT), f"{where}.timeout") or DEFAULT_MODULE_TIMEOUT
    for other in {"http", "tcp", "journey"} - {prober}:
        if other in spec:
            raise ConfigError(f"{where}: '{other}' settings given to a {prober} prober")
    settings = spec.get(prober, {})
    if prober == "http":
        return Module(name, prober, timeout, http=_http(settings, f"{where}.http"))
    if prober == "tcp":
        return Module(name, prober, timeout, tcp=_tcp(settings, f"{where}.tcp"))
    return Module(name, prober, timeout, journey=_journey(settings, f"{where}.journey"))


def _bool(spec: dict, key: str, where: str, default: bool = False) -> bool:
    value = spec.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}.{key}: true or false, not {value!r}")
    return value


def _str(spec: dict, key: str, where: str, default: str | None = None) -> str | None:
    value = spec.get(key, default)
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{where}.{key}: a string, not {value!r}")
    return value


def _patterns(spec: dict, key: str, where: str) -> tuple[re.Pattern, ...]:
    values = spec.get(key, [])
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ConfigError(f"{where}.{key}: a list of regular expressions")
    return tuple(_regexp(v, f"{where}.{key}") for v in values)


def _regexp(text: str, where: str) -> re.Pattern:
    try:
        return re.compile(text)
    except re.error as error:
        raise ConfigError(f"{where}: {text!r} is not a regular expression: {error}") from None


def _ip_protocol(spec: dict, where: str) -> str:
    # blackbox's pair: a preferred family, and whether the other one may be used.
    preferred = spec.get("preferred_ip_protocol", "ip6")
    if preferred not in ("ip4", "ip6"):
        raise ConfigError(f"{where}.preferred_ip_protocol: 'ip4' or 'ip6', not {preferred!r}")
    return "any" if _bool(spec, "ip_protocol_fallback", where, True) else preferred


def _tls(spec: Any, where: str) -> TlsSettings:
    if spec is None:
        return TlsSettings()
    _only(spec, where, {"ca_file", "insecure_skip_verify", "server_name"})
    ca_file = _str(spec, "ca_file", where, SYSTEM_CA_FILE)
    if not os.access(ca_file, os.R_OK):
        raise ConfigError(f"{where}.ca_file: {ca_file} cannot be read")
    return TlsSettings(ca_file=ca_file, insecure_skip_verify=_bool(spec, "insecure_skip_verify", where),
                       server_name=_str(spec, "server_name", where))


def _http(spec: Any, where: str) -> HttpSettings:
    _only(spec, where, {"method", "headers", "body", "valid_status_codes", "no_follow_redirects", "fail_if_ssl",
                        "fail_if_not_ssl", "fail_if_body_matches_regexp", "fail_if_body_not_matches_regexp",
                        "body_size_limit", "preferred_ip_protocol", "ip_protocol_fallback", "tls_config"})
    headers = spec.get("headers", {})
    if not isinstance(headers, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
        raise ConfigError(f"{where}.headers: an object of header names to strings")
    codes = spec.get("valid_status_codes", [])
    if not isinstance(codes, list) or not all(isinstance(c, int) and 100 <= c <= 599 for c in codes):
        raise ConfigError(f"{where}.valid_status_codes: a list of HTTP status codes (100-599)")
    limit = spec.get("body_size_limit", DEFAULT_BODY_SIZE_LIMIT)
    if not isinstance(limit, int) or limit <= 0:
        raise ConfigError(f"{where}.body_size_limit: a positive number of bytes")
    method = _str(spec, "method", where, "GET").upper()
    if not re.fullmatch(r"[A-Z]+", method):
        raise ConfigError(f"{where}.method: {method!r} is not an HTTP method")
    return HttpSettings(
        method=method, headers=tuple(headers.items()), body=_str(spec, "body", where, ""),
        valid_status_codes=tuple(codes), no_follow_redirects=_bool(spec, "no_follow_redirects", where),
        fail_if_ssl=_bool(spec, "fail_if_ssl", where), fail_if_not_ssl=_bool(spec, "fail_if_not_ssl", where),
        fail_if_body_matches_regexp=_patterns(spec, "fail_if_body_matches_regexp", where),
        fail_if_body_not_matches_regexp=_patterns(spec, "fail_if_body_not_matches_regexp", where),
        body_size_limit=limit, ip_protocol=_ip_protocol(spec, where),
        tls=_tls(spec.get("tls_config"), f"{where}.tls_config"))


def _tcp(spec: Any, where: str) -> TcpSettings:
    _only(spec, where, {"tls", "tls_config", "query_response", "preferred_ip_protocol", "ip_protocol_fallback"})
    steps = []
    query = spec.get("query_response", [])
    if not isinstance(query, list):
        raise ConfigError(f"{where}.query_response: a list of {{expect, send}} objects")
    for index, step in enumerate(query):
        step_where = f"{where}.query_response[{index}]"
        _only(step, step_where, {"expect", "send"})
        expect = _str(step, "expect", step_where)
        steps.append(QueryStep(_regexp(expect, f"{step_where}.expect") if expect else None,
                               _str(step, "send", step_where, "")))
    return TcpSettings(tls=_bool(spec, "tls", where), tls_config=_tls(spec.get("tls_config"), f"{where}.tls_config"),
                       query_response=tuple(steps), ip_protocol=_ip_protocol(spec, where))


def _journey(spec: Any, where: str) -> JourneySettings:
    _only(spec, where, {"citizen", "sso_issuer", "catalogue_query", "procedure_code", "unit_code",
                        "attachment_bytes", "tls_config"})
    for key in ("citizen", "sso_issuer", "catalogue_query", "procedure_code"):
        if not isinstance(spec.get(key), str) or not spec[key]:
            raise ConfigError(f"{where}.{key}: required (a non-empty string)")
    if not CITIZEN.match(spec["citizen"]):
        raise ConfigError(f"{where}.citizen: a test citizen of the SSO stand-in is a 12-digit number")
    issuer = urlsplit(spec["sso_issuer"])
    if issuer.scheme not in ("http", "https") or not issuer.hostname:
        raise ConfigError(f"{where}.sso_issuer: the SSO stand-in's issuer URL (http(s)://host:port/sso)")
    unit = _str(spec, "unit_code", where)
    if unit is not None and not UNIT_CODE.match(unit):
        raise ConfigError(f"{where}.unit_code: {unit!r} is not a unit code (000.00.14.H56)")
    size = spec.get("attachment_bytes", JourneySettings.attachment_bytes)
    # At least a PDF header and some randomness; at most what a probe every few minutes can afford.
    if not isinstance(size, int) or not 64 <= size <= 1024 * 1024:
        raise ConfigError(f"{where}.attachment_bytes: between 64 and 1048576")
    tls = _tls(spec.get("tls_config"), f"{where}.tls_config")
    if tls.server_name:
        raise ConfigError(f"{where}.tls_config.server_name: a journey runs at the portal's public URL; "
                          "give that URL as the target instead")
    return JourneySettings(citizen=spec["citizen"], sso_issuer=spec["sso_issuer"].rstrip("/"),
                           catalogue_query=spec["catalogue_query"], procedure_code=spec["procedure_code"],
                           unit_code=unit, attachment_bytes=size, tls=tls)
