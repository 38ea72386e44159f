"""Listening-port drift: TCP ports listening that the host's role does not expect, and expected
ones that are not listening.

A port bound to loopback only (127.0.0.0/8, ::1) is reachable from the host alone, so by
default it is neither unexpected (the portal's gunicorn, PostgreSQL on a portal host) nor
enough for an expected port to count as listening. psutil reads /proc/net/tcp and tcp6,
which any user may read: no root needed.
"""

from __future__ import annotations

import ipaddress
from typing import Callable, Iterable

import psutil
from prometheus_client.core import GaugeMetricFamily

from portalops_exporters.security.events import PREFIX


def _loopback(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or bool(mapped and mapped.is_loopback)


def listening_ports(ignore_loopback: bool = True) -> set[int]:
    """The TCP ports some socket listens on (on a non-loopback address when ``ignore_loopback``)."""
    ports = set()
    for connection in psutil.net_connections(kind="tcp"):
        if connection.status != psutil.CONN_LISTEN or not connection.laddr:
            continue
        if ignore_loopback and _loopback(connection.laddr.ip):
            continue
        ports.add(connection.laddr.port)
    return ports


class PortDrift:
    """Compares the listening ports with ``expected`` at each scrape.

    + expected: the ports the role listens on (from the inventory: SSH, exporters, web...)
    + ignore_loopback: leave loopback-only listeners out (see the module's docstring)
    + listening: how to find the listening ports (tests may give their own)
    """

    def __init__(self, expected: Iterable[int], ignore_loopback: bool = True,
                 listening: Callable[[bool], set[int]] = listening_ports):
        self.expected = sorted({int(port) for port in expected})
        self.ignore_loopback = ignore_loopback
        self.listening = listening

    def collect(self) -> Iterable[GaugeMetricFamily]:
        """``listeners_unexpected`` and ``expected_port_listening{port}``."""
        ports = self.listening(self.ignore_loopback)
        unexpected = GaugeMetricFamily(
            f"{PREFIX}_listeners_unexpected",
            "TCP ports listening that the role does not expect (loopback-only listeners left out unless configured).")
        unexpected.add_metric([], len(ports - set(self.expected)))
        yield unexpected
        expected = GaugeMetricFamily(f"{PREFIX}_expected_port_listening",
                                     "1 if an expected TCP port of the role is listening, 0 if it is not.",
                                     labels=["port"])
        for port in self.expected:
            expected.add_metric([str(port)], 1.0 if port in ports else 0.0)
        yield expected
