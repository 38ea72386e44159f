"""The exporters' HTTP(S) server: ``/metrics`` and any other route, with mutual TLS on scrapes.

Scrapes come only from the monitor host (the firewall) and, with ``client_ca`` set,
only from a client that shows a certificate of the deploy's CA (Prometheus's
``tls_config``): an open port alone gives nobody the host's figures.
"""

from __future__ import annotations

import logging
import ssl
import threading
from dataclasses import dataclass
from typing import Callable
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer

log = logging.getLogger("portalops_exporters")

WsgiApp = Callable


@dataclass(frozen=True)
class Tls:
    """Server certificate and key, and the CA a client's certificate must chain to."""

    cert: str
    key: str
    client_ca: str | None = None

    def context(self) -> ssl.SSLContext:
        """A server context: TLS 1.2 or newer, client certificates required when a CA is given."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.cert, self.key)
        if self.client_ca:
            context.load_verify_locations(self.client_ca)
            context.verify_mode = ssl.CERT_REQUIRED
        return context


class _QuietHandler(WSGIRequestHandler):
    """No line per scrape on stderr (the journal would fill with them)."""

    def log_message(self, format, *args):  # noqa: A002 (the standard library's name)
        pass


def routes(registry: CollectorRegistry, extra: dict[str, WsgiApp] | None = None) -> WsgiApp:
    """A WSGI app answering ``/metrics`` from ``registry`` and each path of ``extra`` with its app."""
    metrics = make_wsgi_app(registry)
    table = {"/metrics": metrics, **(extra or {})}

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "/")
        if path in table:
            return table[path](environ, start_response)
        if path == "/":
            body = "".join(f'<a href="{p}">{p}</a><br>\n' for p in table).encode()
            start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
            return [body]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found\n"]

    return app


def serve(app: WsgiApp, address: str, port: int, tls: Tls | None = None) -> tuple[ThreadingWSGIServer, threading.Thread]:
    """Serve ``app`` on ``address:port`` in a daemon thread (over TLS when ``tls`` is given)."""
    server = make_server(address, port, app, ThreadingWSGIServer, handler_class=_QuietHandler)
    if tls:
        # The handshake happens on the first read, in the request's own thread: a client that
        # stalls it cannot hold up the accept loop.
        server.socket = tls.context().wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    thread = threading.Thread(target=server.serve_forever, name=f"exporter-{port}", daemon=True)
    thread.start()
    log.info("serving on %s:%d%s", address, port, " (TLS)" if tls else "")
    return server, thread
