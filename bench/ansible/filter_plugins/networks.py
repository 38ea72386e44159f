"""Filter ``in_networks``: whether an address lies in one of a list of networks (CIDR).

ansible-core has no such test (ansible.utils.ipaddr needs a collection and netaddr);
the firewall guard needs only this.
"""

from __future__ import annotations

import ipaddress


def in_networks(address: str, networks: list[str]) -> bool:
    """True if ``address`` is inside any of ``networks``; False for an empty or bad address."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(network, strict=False) for network in networks)


class FilterModule:
    """Ansible's entry point for this file's filters."""

    def filters(self):
        return {"in_networks": in_networks}
