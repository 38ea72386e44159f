"""nftables: deny by default, per-role allow lists derived from the inventory.

What a host opens to whom is its roles' openings in the role table (inventory/roles.py): the
web ports to everyone on portal and one-stop hosts, PostgreSQL to the province's portal
hosts, every exporter to the monitor hosts, pgBackRest's port between database and backup
hosts; SSH only from the admin networks, with new connections rate-limited per source. The
ruleset is checked with ``nft -c`` before it is loaded; a host whose ruleset would not let the
deploy's own connection back in is refused before anything changes (deploy/guards.py).
"""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import apt, server, systemd

from deploy import defaults
from deploy.controls import named
from deploy.operations import validated_file
from deploy.peers import addresses_of, present, this_host
from deploy.templates import render
from inventory.roles import HostRoles


def port_numbers(data, keys) -> list[int]:
    """The ports behind data keys (``postgres_port``; a key may hold a list, ``web_ports``)."""
    numbers = []
    for key in keys:
        value = getattr(data, key)
        numbers += list(value) if isinstance(value, (list, tuple)) else [value]
    return numbers


def networks_in(data, key: str) -> list[str]:
    """The networks the data key ``key`` holds (a list, one network, or nothing)."""
    value = getattr(data, key, None)
    return [value] if isinstance(value, str) else list(value or [])


def allow_rules(roles: HostRoles) -> tuple[list[int], list[dict]]:
    """Ports open to all, and named allow lists (ports and the addresses they admit), for a
    host with ``roles``; an opening with no source in the inventory opens nothing."""
    data = host.data
    public, rules = [], []
    for opening in roles.openings:
        if not roles.is_open(opening, present):
            continue
        ports = port_numbers(data, opening.ports)
        if opening.public:
            public += [port for port in ports if port not in public]
            continue
        sources = []
        for source in opening.sources:
            found = networks_in(data, source) if isinstance(source, str) else addresses_of(source)
            sources += [address for address in found if address not in sources]
        if sources and ports:
            rules.append({"name": opening.name, "ports": ports, "sources": sources})
    return public, rules


@deploy("Firewall", data_defaults=defaults.ALL)
def firewall():
    """nftables ruleset per role (fw-01..04), enabled at boot, loaded only after ``nft -c`` passes."""
    roles = this_host()
    public, rules = allow_rules(roles)
    apt.packages(name=named("fw-01") + ": nftables", packages=["nftables"], no_recommends=True)
    ruleset = validated_file(
        name=named("fw-04") + ": /etc/nftables.conf",
        content=render("nftables.conf.j2", host.data, roles=roles.names, public_ports=public, allow=rules),
        dest="/etc/nftables.conf", check="nft -c -f {path}", mode="600")
    server.shell(name=named("fw-01") + ": load the ruleset", commands=["nft -f /etc/nftables.conf"],
                 _if=ruleset.did_change)
    systemd.service(name=named("fw-01") + ": loaded at boot", service="nftables", enabled=True)
