"""Source addresses for simulated users: citizens come from many addresses, so the portal's
per-address limits (20 logins and 30 submissions a minute, deploy/defaults.py) meet the load
as they meet real traffic, not as one address sending a whole province's dossiers.

Each user sends its portal requests from one address of the pool (``--source-addresses``),
which must be configured on the load generator's interface (the lab does so for
``lab.settings.LOAD_SOURCES``). Requests to other sites (the SSO and payment stand-ins) go
out from the machine's usual address.
"""

from __future__ import annotations

import ipaddress
import socket

from requests.adapters import HTTPAdapter


class SourceAddressAdapter(HTTPAdapter):
    """A requests adapter whose connections leave from ``address``."""

    def __init__(self, address: str, **kwargs):
        self.source_address = (address, 0)
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = self.source_address
        super().init_poolmanager(*args, **kwargs)


def pool(network: str | None) -> list[str]:
    """The usable addresses of ``network`` (``198.18.250.0/24``), or none."""
    if not network:
        return []
    try:
        parsed = ipaddress.ip_network(network, strict=False)
    except ValueError as error:
        raise ValueError(f"source addresses {network!r}: {error}") from None
    hosts = [str(address) for address in parsed.hosts()] or [str(parsed.network_address)]
    return hosts


def missing(addresses: list[str]) -> list[str]:
    """The addresses this machine cannot send from (not configured on any interface)."""
    absent = []
    for address in addresses:
        with socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((address, 0))
            except OSError:
                absent.append(address)
    return absent
