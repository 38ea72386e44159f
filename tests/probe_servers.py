"""Throwaway targets on 127.0.0.1 for the probe exporter's tests and benchmark.

A private CA with certificates that end when asked, web servers (plain or TLS) answering
fixed routes, a server that accepts and never answers, a line server (an SSH-like banner),
and a port nobody listens on. They live with the tests, out of the exporters' wheel that every
host installs; they need the ``cryptography`` package, which the tests and the benchmark have.
"""

from __future__ import annotations

import contextlib
import datetime
import http.server
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator
from urllib.request import Request, urlopen
from urllib.error import HTTPError

LOOPBACK = "127.0.0.1"


@dataclass
class Ca:
    """A private CA in ``directory``: ``ca_file`` to trust, ``issue`` to sign a server certificate."""

    directory: Path
    name: str = "portalops probe test CA"
    _key: object = None
    _cert: object = None

    def __post_init__(self):
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        self.directory.mkdir(parents=True, exist_ok=True)
        self._key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, self.name)])
        now = datetime.datetime.now(datetime.timezone.utc)
        self._cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                      .public_key(self._key.public_key()).serial_number(x509.random_serial_number())
                      .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=3650))
                      .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                      .sign(self._key, hashes.SHA256()))
        self.ca_file.write_bytes(self._cert.public_bytes(serialization.Encoding.PEM))

    @property
    def ca_file(self) -> Path:
        """The CA certificate (PEM), what a probe's ``tls_config.ca_file`` names."""
        return self.directory / "ca.pem"

    def issue(self, name: str = "localhost", days: float = 90, addresses: tuple[str, ...] = (LOOPBACK,)
              ) -> tuple[Path, Path, datetime.datetime]:
        """A server certificate for ``name`` and ``addresses`` ending in ``days``: (cert file, key file, notAfter)."""
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        not_after = now + datetime.timedelta(days=days)
        names = [x509.DNSName(name), *(x509.IPAddress(ipaddress.ip_address(a)) for a in addresses)]
        cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
                .issuer_name(self._cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(not_after)
                .add_extension(x509.SubjectAlternativeName(names), critical=False)
                .sign(self._key, hashes.SHA256()))
        stem = self.directory / f"{name}-{cert.serial_number:x}"
        cert_file, key_file = stem.with_suffix(".crt"), stem.with_suffix(".key")
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        return cert_file, key_file, not_after


@dataclass(frozen=True)
class Page:
    """A fixed answer: status, body, headers, and how long to wait before answering."""

    status: int = 200
    body: bytes = b"<html><title>Dich vu cong</title>ok</html>\n"
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "text/html; charset=utf-8"),)
    delay: float = 0.0


@dataclass
class WebServer:
    """An HTTP(S) server on 127.0.0.1 answering ``routes`` (path -> Page, or a callable of the handler;
    the path ``*`` answers every path without a route of its own).

    Use as a context manager; ``url`` is its base URL, ``hits`` counts requests by path.
    """

    routes: dict[str, Page | Callable] = field(default_factory=lambda: {"/": Page()})
    tls: tuple[Path, Path] | None = None
    hits: dict[str, int] = field(default_factory=dict)

    def __enter__(self) -> "WebServer":
        server_routes, hits = self.routes, self.hits

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self):
                path = self.path.split("?", 1)[0]
                hits[path] = hits.get(path, 0) + 1
                route = server_routes.get(path) or server_routes.get("*")
                if callable(route):
                    return route(self)
                page = route or Page(404, b"not found\n")
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                time.sleep(page.delay)
                self.send_response(page.status)
                for name, value in page.headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(page.body)))
                self.end_headers()
                self.wfile.write(page.body)

            do_GET = do_POST = do_HEAD = _answer

            def log_message(self, format, *args):  # noqa: A002 (the standard library's name)
                pass

        self.server = http.server.ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self.server.daemon_threads = True
        if self.tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*map(str, self.tls))
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True,
                                                     do_handshake_on_connect=False)
        self.port = self.server.server_address[1]
        self.url = f"{'https' if self.tls else 'http'}://{LOOPBACK}:{self.port}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


class SilentServer:
    """Accepts connections on 127.0.0.1 and never says a word (a hung backend)."""

    def __enter__(self) -> "SilentServer":
        self.socket = socket.socket()
        self.socket.bind((LOOPBACK, 0))
        self.socket.listen(64)
        self.port = self.socket.getsockname()[1]
        self.held: list[socket.socket] = []
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def _accept(self) -> None:
        while not self._stop:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            self.held.append(connection)

    def __exit__(self, *exc) -> None:
        self._stop = True
        self.socket.close()
        for connection in self.held:
            connection.close()


class LineServer:
    """Sends ``banner`` to each connection on 127.0.0.1, then keeps what the client sends in ``received``
    (or, with ``hang_up``, closes the connection right after the banner)."""

    def __init__(self, banner: bytes, hang_up: bool = False):
        self.banner, self.hang_up, self.received = banner, hang_up, []

    def __enter__(self) -> "LineServer":
        self.socket = socket.socket()
        self.socket.bind((LOOPBACK, 0))
        self.socket.listen(16)
        self.port = self.socket.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            with connection:
                connection.settimeout(2)
                connection.sendall(self.banner)
                if self.hang_up:
                    continue
                try:
                    self.received.append(connection.recv(1024))
                except OSError:
                    self.received.append(b"")

    def __exit__(self, *exc) -> None:
        self.socket.close()


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (just released by the kernel)."""
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def exporter_at(config: dict) -> Iterator[str]:
    """The probe exporter served as the CLI serves it (``/probe`` and ``/metrics``); yields its base URL."""
    from prometheus_client import CollectorRegistry

    from portalops_exporters.exporter import Scraped
    from portalops_exporters.probe import make_app
    from portalops_exporters.server import routes, serve

    registry, exporter = CollectorRegistry(), make_app(config)
    registry.register(Scraped("portalops_probe", exporter))
    server, _ = serve(routes(registry, extra={"/probe": exporter}), LOOPBACK, 0)
    try:
        yield f"http://{LOOPBACK}:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def fetch(url: str, headers: dict[str, str] | None = None, timeout: float = 60) -> tuple[int, str]:
    """GET ``url``: (status, body as text), for 4xx/5xx answers too."""
    try:
        with urlopen(Request(url, headers=headers or {}), timeout=timeout) as answer:
            return answer.status, answer.read().decode()
    except HTTPError as error:
        return error.code, error.read().decode()


def samples(exposition: str) -> dict[str, float]:
    """An exposition's samples by ``name{label="value",...}`` (labels sorted), as PromQL shows them."""
    from prometheus_client.parser import text_string_to_metric_families

    found = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            found[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return found
