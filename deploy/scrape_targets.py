"""Prometheus's scrape targets (file_sd), derived from the inventory: a new commune in the units
table is scraped and probed after the next deploy of the monitor host, with no list typed twice.

Every target carries its host's unit as labels (``instance`` = the host's name, ``unit_code``,
``unit_name``, ``tier``, ``roles`` as ``,portal,db,``), so an alert says which unit is hurt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from pyinfra import inventory

from deploy.peers import address_of
from deploy.standard_exporters import STANDARD_EXPORTERS
from deploy.web import WEB_ROLES

# Jobs that scrape an exporter on the hosts themselves: on every host, then where Debian's
# standard exporters run.
HOST_JOBS = ("node", "portalops", *(e.job for e in STANDARD_EXPORTERS))


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
        return bool(set(WEB_ROLES) & set(self.roles))


def members() -> list[Member]:
    """Every host of the current pyinfra inventory."""
    return sorted((Member(name=h.name, address=address_of(h), unit_code=h.data.unit_code or "",
                          unit_name=h.data.unit_name or "", tier=h.data.tier or "", roles=tuple(h.data.roles or ()))
                   for h in inventory), key=lambda m: m.name)


# What each probe module probes on a host (None: nothing), as a probe target string.
PROBE_TARGETS: dict[str, Callable[[Member], str | None]] = {
    "https_portal": lambda m: f"https://{m.address}/readyz" if m.serves_web else None,
    "tls_expiry": lambda m: f"{m.address}:443" if m.serves_web else None,
    "journey": lambda m: f"https://{m.address}" if "portal" in m.roles else None,
}


def targets(hosts: list[Member], data, modules: list[str]) -> dict[str, list[dict]]:
    """file_sd contents by job: the host exporters, the portals' own metrics, and each probe module
    (``data``: the ports, as the deploy's data names them)."""
    jobs: dict[str, list[dict]] = {
        "node": [{"targets": [f"{m.address}:{data.node_exporter_port}"], "labels": m.labels} for m in hosts],
        "portalops": [{"targets": [f"{m.address}:{data.exporter_port}"], "labels": m.labels} for m in hosts],
        "portal": [{"targets": [f"{m.address}:443"], "labels": m.labels} for m in hosts if m.serves_web],
    }
    for exporter in STANDARD_EXPORTERS:
        port = getattr(data, exporter.port_key)
        jobs[exporter.job] = [{"targets": [f"{m.address}:{port}"], "labels": m.labels}
                              for m in hosts if exporter.runs_on(m.roles)]
    for module in modules:
        jobs[f"probe_{module}"] = [{"targets": [target], "labels": {**m.labels, "module": module}}
                                   for m in hosts if (target := PROBE_TARGETS[module](m))]
    return jobs


def scrape_targets(modules: list[str]) -> dict[str, list[dict]]:
    """file_sd contents by job for the current inventory (see :func:`targets`)."""
    from pyinfra import host

    return targets(members(), host.data, modules)
