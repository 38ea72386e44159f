"""What nginx does for sync in front of the province's portal, played on loopback for the
tests: TLS that requires a client certificate from the deploy's CA, the certificate's
common name passed on in X-Sync-Sender (whatever the client put there replaced), and the
request forwarded to the portal."""

from __future__ import annotations

import http.server
import ssl
import threading

import httpx

from dichvucong.routes.sync import SENDER_HEADER
from tests.probe_servers import LOOPBACK, Ca

# Headers of the hop itself, and the one the front alone may set.
NOT_FORWARDED = {"host", "connection", "content-length", "transfer-encoding", SENDER_HEADER.lower()}


class SyncFront:
    """A TLS front for ``upstream`` trusting client certificates of ``ca``.

    Use as a context manager; ``url`` is its base URL, ``seen`` lists (sender, Authorization
    header or None) for each request it forwarded.
    """

    def __init__(self, ca: Ca, upstream: str):
        self.ca, self.upstream = ca, upstream
        self.seen: list[tuple[str, str | None]] = []

    def __enter__(self) -> "SyncFront":
        front = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                subject = dict(pair[0] for pair in self.connection.getpeercert()["subject"])
                sender = subject["commonName"]
                front.seen.append((sender, self.headers.get("Authorization")))
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k: v for k, v in self.headers.items() if k.lower() not in NOT_FORWARDED}
                answer = httpx.post(front.upstream + self.path, content=body,
                                    headers=headers | {SENDER_HEADER: sender}, timeout=30)
                self.send_response(answer.status_code)
                self.send_header("Content-Type", answer.headers.get("content-type", "application/json"))
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            def log_message(self, format, *args):  # noqa: A002 (the standard library's name)
                pass

        cert, key, _ = self.ca.issue("province")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(self.ca.ca_file)
        self.server = http.server.ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self.server.daemon_threads = True
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True, do_handshake_on_connect=False)
        self.url = f"https://{LOOPBACK}:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
