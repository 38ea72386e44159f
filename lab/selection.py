"""Which hosts of a topology the lab boots: the province's hosts and a few one-stop units."""

from __future__ import annotations

import ipaddress
from itertools import chain, zip_longest

from inventory.units import Host
from lab import LabError, settings


def select_hosts(hosts: list[Host], districts: int, communes: int) -> list[Host]:
    """The province's hosts, the first ``districts`` districts and ``communes`` communes.

    Where the table has districts, communes are taken from the chosen districts in
    turn (one from each, then a second from each...), so every district has some.

    + hosts: a whole units table
    + districts: how many district-level units to boot
    + communes: how many commune-level units to boot

    Example: ``select_hosts(topology("2020"), districts=2, communes=3)``
    """
    if districts < 0 or communes < 0:
        raise LabError("--districts and --communes cannot be negative")
    province = [h for h in hosts if h.tier == "province"]
    all_districts = [h for h in hosts if h.tier == "district"]
    all_communes = [h for h in hosts if h.tier == "commune"]
    if districts > len(all_districts):
        if not all_districts:
            raise LabError("this topology has no district level (the 2025 topology has none): "
                           "use --districts 0")
        raise LabError(f"--districts {districts}: the table has only {len(all_districts)}")
    chosen_districts = all_districts[:districts]
    if all_districts and chosen_districts:
        per_district = [[c for c in all_communes if c.parent == d.unit_code] for d in chosen_districts]
        pool = [c for c in chain.from_iterable(zip_longest(*per_district)) if c is not None]
    elif all_districts:
        pool = []
    else:
        pool = all_communes
    if communes > len(pool):
        where = f" under the {districts} chosen districts" if all_districts else ""
        raise LabError(f"--communes {communes}: the table has only {len(pool)} communes{where}")
    return province + chosen_districts + pool[:communes]


def check_addresses(hosts: list[Host]) -> None:
    """Refuse hosts whose addresses the lab network cannot carry."""
    outside = [h for h in hosts if not _in_lab(h.address)]
    if outside:
        names = ", ".join(f"{h.host} ({h.address})" for h in outside)
        raise LabError(f"outside the lab network {settings.LAB_NETWORK}: {names}; "
                       "a lab can only boot hosts with lab addresses")


def _in_lab(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return ip in settings.LAB_NETWORK and str(ip) != settings.CONTROLLER_ADDRESS and ip not in (
        settings.LAB_NETWORK.network_address, settings.LAB_NETWORK.broadcast_address)
