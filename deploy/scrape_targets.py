"""Prometheus's scrape targets (file_sd), derived from the inventory: a new commune in the units
table is scraped and probed after the next deploy of the monitor host, with no list typed twice.

Which exporters a host is scraped on, and which probes reach it, follow its roles in the role
table (inventory/roles.py). Every target carries its host's unit as labels (``instance`` = the
host's name, ``unit_code``, ``unit_name``, ``tier``, ``roles`` as ``,portal,db,``), so an
alert says which unit is hurt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from pyinfra import inventory

from deploy.peers import address_of
from inventory.roles import EVERY_HOST, PROVINCE_PORTALS, ROLES, WEB_HOSTS, HostRoles

# The exporters on the hosts themselves, each a job: every host's, then each role's.
HOST_EXPORTERS = tuple(dict.fromkeys(exporter for role in (EVERY_HOST, *ROLES.values()) for exporter in role.exporters))
HOST_JOBS = tuple(exporter.job for exporter in HOST_EXPORTERS)


@dataclass(frozen=True)
class Member:
    """An inventory host as the monitor host sees it."""

    name: str
    address: str
    unit_code: str
    unit_name: str
    tier: str
    roles: tuple[str, ...]

    @property
    def labels(self) -> dict[str, str]:
        """The labels every series of this host carries."""
        return {"instance": self.name, "unit_code": self.unit_code, "unit_name": self.unit_name,
                "tier": self.tier, "roles": "," + ",".join(self.roles) + ","}

    @property
    def serves_web(self) -> bool:
        """True for a host whose nginx serves the portal (province or one-stop)."""
        return WEB_HOSTS.matches(self.roles)


def members() -> list[Member]:
    """Every host of the current pyinfra inventory."""
    return sorted((Member(name=h.name, address=address_of(h), unit_code=h.data.unit_code or "",
                          unit_name=h.data.unit_name or "", tier=h.data.tier or "", roles=tuple(h.data.roles or ()))
                   for h in inventory), key=lambda m: m.name)


# What each probe module probes on a host (None: nothing), as a probe target string.
PROBE_TARGETS: dict[str, Callable[[Member], str | None]] = {
    "https_portal": lambda m: f"https://{m.address}/readyz" if m.serves_web else None,
    "tls_expiry": lambda m: f"{m.address}:443" if m.serves_web else None,
    "journey": lambda m: f"https://{m.address}" if PROVINCE_PORTALS.matches(m.roles) else None,
}


def targets(hosts: list[Member], data, modules: list[str]) -> dict[str, list[dict]]:
    """file_sd contents by job: the host exporters, the portals' own metrics, and each probe module
    (``data``: the ports, as the deploy's data names them)."""
    scraped = {m.name: HostRoles.of(m.roles).exporters for m in hosts}
    jobs: dict[str, list[dict]] = {}
    for exporter in HOST_EXPORTERS:
        port = getattr(data, exporter.port)
        jobs[exporter.job] = [{"targets": [f"{m.address}:{port}"], "labels": m.labels}
                              for m in hosts if exporter in scraped[m.name]]
    jobs["portal"] = [{"targets": [f"{m.address}:443"], "labels": m.labels} for m in hosts if m.serves_web]
    for module in modules:
        jobs[f"probe_{module}"] = [{"targets": [target], "labels": {**m.labels, "module": module}}
                                   for m in hosts if (target := PROBE_TARGETS[module](m))]
    return jobs


def scrape_targets(modules: list[str]) -> dict[str, list[dict]]:
    """file_sd contents by job for the current inventory (see :func:`targets`)."""
    from pyinfra import host

    return targets(members(), host.data, modules)
