"""nftables: deny by default, per-role allow lists derived from the inventory.

Web ports are open to all on portal and one-stop hosts; PostgreSQL only from the
portal hosts; exporters only from the monitor hosts; SSH only from the admin
networks, with new connections rate-limited per source. The ruleset is checked
with ``nft -c`` before it is loaded, and the deploy refuses a ruleset that would
not let its own connection back in.
"""

from __future__ import annotations

import ipaddress

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import apt, server, systemd

from deploy import defaults
from deploy.controls import named
from deploy.database import DATABASE_ROLES
from deploy.facts import SshClientAddress
from deploy.operations import refuse, validated_file
from deploy.peers import addresses_of
from deploy.templates import render
from deploy.standard_exporters import ports_for
from deploy.web import WEB_ROLES


def allow_rules(roles: list[str]) -> tuple[list[int], list[dict]]:
    """Ports open to all, and ports open to a group's hosts, for a host with ``roles``."""
    data = host.data
    public = list(data.web_ports) if set(WEB_ROLES) & set(roles) else []
    rules = []
    if "db" in roles and addresses_of("portal"):
        rules.append({"name": "app_hosts", "ports": [data.postgres_port], "sources": addresses_of("portal")})
    monitors = addresses_of("monitor")
    if monitors:
        rules.append({"name": "monitor_hosts", "sources": monitors,
                      "ports": [data.node_exporter_port, data.exporter_port, *ports_for(data, roles)]})
    # pgBackRest's TLS servers: database hosts push WAL to the backup hosts, which reach
    # back to take the backups.
    databases = addresses_of(*DATABASE_ROLES)
    if "backup" in roles and databases:
        rules.append({"name": "database_hosts", "ports": [data.backup_port], "sources": databases})
    if set(DATABASE_ROLES) & set(roles) and addresses_of("backup"):
        rules.append({"name": "backup_hosts", "ports": [data.backup_port], "sources": addresses_of("backup")})
    if "monitor" in roles:
        rules.append({"name": "admins_to_monitor", "ports": [data.prometheus_port, data.alertmanager_port],
                      "sources": list(data.admin_networks)})
        # The national-service stand-ins: called by the portals, and by browsers (the SSO) from
        # the admin networks, where the lab's tests and load generators run.
        rules.append({"name": "standins", "ports": [data.standins_port],
                      "sources": addresses_of("portal") + addresses_of("onestop") + list(data.admin_networks)})
    return public, rules


def guard_admin_networks() -> bool:
    """Refuse the host unless the address this deploy connects from is in the admin networks."""
    source = host.get_fact(SshClientAddress, _sudo=False)
    networks = [ipaddress.ip_network(n, strict=False) for n in host.data.admin_networks]
    if source and any(ipaddress.ip_address(source) in network for network in networks):
        return True
    refuse(name="[guard] the deploy's own connection stays allowed",
           reason=f"this deploy connects from {source or 'an unknown address'}, outside admin_networks "
                  f"({', '.join(map(str, networks)) or 'none'}): the firewall would shut it out")
    return False


@deploy("Firewall", data_defaults=defaults.ALL)
def firewall():
    """nftables ruleset per role (fw-01..04), enabled at boot, loaded only after ``nft -c`` passes."""
    if not guard_admin_networks():
        return
    roles = list(host.data.roles or [])
    public, rules = allow_rules(roles)
    apt.packages(name=named("fw-01") + ": nftables", packages=["nftables"], no_recommends=True)
    ruleset = validated_file(
        name=named("fw-04") + ": /etc/nftables.conf",
        content=render("nftables.conf.j2", host.data, roles=roles, public_ports=public, allow=rules),
        dest="/etc/nftables.conf", check="nft -c -f {path}", mode="600")
    server.shell(name=named("fw-01") + ": load the ruleset", commands=["nft -f /etc/nftables.conf"],
                 _if=ruleset.did_change)
    systemd.service(name=named("fw-01") + ": loaded at boot", service="nftables", enabled=True)
