"""The TCP prober: blackbox_exporter's ``tcp`` prober (connect, optional TLS, optional line exchange).

libcurl connects (and shakes hands) with CONNECT_ONLY; the exchange then reads and writes
through the same handle, so a TLS target's lines are decrypted by the same library that
checked its certificate.
"""

from __future__ import annotations

import select
import time

import pycurl

from portalops_exporters.probe.config import Module, QueryStep
from portalops_exporters.probe.result import ProbeResult
from portalops_exporters.probe.transfer import Address, Handle, Timeout, describe, report_address, report_tls

# A banner line longer than this is not a line we are waiting for.
MAX_LINE = 64 * 1024


def probe_tcp(address: Address, module: Module, deadline: float, result: ProbeResult) -> bool:
    """Connect to ``address`` (and shake hands, with ``tls``), then run the query/response steps."""
    settings = module.tcp
    handle = Handle(settings.tls_config, settings.ip_protocol, http_only=False, keeps_connection=True)
    result.set("probe_failed_due_to_regex", "Indicates if probe failed due to regex", 0)
    try:
        c = handle.curl
        c.setopt(pycurl.CONNECT_ONLY, 1)
        # libcurl needs a scheme to know whether to shake hands; nothing is sent with CONNECT_ONLY.
        handle.aim(f"{'https' if settings.tls else 'http'}://{address.url_host}:{address.port}/")
        try:
            handle.perform(deadline)
        except Timeout as timeout:
            return result.fail(str(timeout))
        except pycurl.error as failure:
            report_address(result, handle, handle.phases()["resolve"], address.host)
            return result.fail(describe(failure))
        report_address(result, handle, handle.phases()["resolve"], address.host)
        if settings.tls:
            report_tls(result, handle)
        return _exchange(c, settings.query_response, deadline, result)
    finally:
        handle.close()


def _exchange(c: pycurl.Curl, steps: tuple[QueryStep, ...], deadline: float, result: ProbeResult) -> bool:
    lines = _Lines(c, deadline)
    for index, step in enumerate(steps):
        if step.expect:
            try:
                while (line := lines.next()) is not None and not step.expect.search(line):
                    pass
            except (Timeout, pycurl.error, OSError) as error:
                return result.fail(f"query_response[{index}]: reading: {error}")
            if line is None:
                result.set("probe_failed_due_to_regex", "Indicates if probe failed due to regex", 1)
                return result.fail(f"query_response[{index}]: no line matched {step.expect.pattern!r}")
        if step.send:
            try:
                lines.send(step.send + "\n")
            except (Timeout, pycurl.error, OSError) as error:
                return result.fail(f"query_response[{index}]: sending: {error}")
    return True


class _Lines:
    """Lines read from a CONNECT_ONLY handle, waiting on its socket until the deadline."""

    def __init__(self, c: pycurl.Curl, deadline: float):
        self.c, self.deadline, self.buffer, self.closed = c, deadline, b"", False
        self.socket = c.getinfo(pycurl.ACTIVESOCKET)

    def _wait(self, writable: bool = False) -> None:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise Timeout("the probe's time ran out")
        ready = select.select([], [self.socket], [], left) if writable else select.select([self.socket], [], [], left)
        if not any(ready):
            raise Timeout("the probe's time ran out")

    def next(self) -> str | None:
        """The next line (without its end), or None at the end of the stream."""
        while b"\n" not in self.buffer:
            if self.closed or len(self.buffer) > MAX_LINE:
                return None
            try:
                chunk = self.c.recv(4096)
            except BlockingIOError:  # pycurl's CURLE_AGAIN: nothing to read yet
                self._wait()
                continue
            if not chunk:
                self.closed = True
                if self.buffer:  # the last line may lack its newline
                    line, self.buffer = self.buffer, b""
                    return line.decode("utf-8", errors="replace").rstrip("\r")
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode("utf-8", errors="replace").rstrip("\r")

    def send(self, text: str) -> None:
        """Send ``text`` whole."""
        data = text.encode()
        while data:
            try:
                sent = self.c.send(data)
            except BlockingIOError:
                self._wait(writable=True)
                continue
            data = data[sent:]
