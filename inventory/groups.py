"""From a units table to a pyinfra inventory.

Groups, each a list of host names:

- one per role of the role table (inventory/roles.py): ``portal``, ``db``, ``monitor``, ``backup``, ``onestop``;
- one per tier below the province: ``district``, ``commune``; and ``province``.

Every host carries its unit in its data (``unit_code``, ``unit_name``, ``tier``,
``parent_code``, ``roles``) so deploys, scrape targets and load tests read it from
the host, never from a second list.
"""

from __future__ import annotations

from typing import Any, Iterable

from inventory.roles import ROLES
from inventory.units import TIERS, Host


def group_names() -> tuple[str, ...]:
    """Every group an inventory can have: one per role of the role table, one per tier."""
    return (*ROLES, *TIERS)


def host_data(host: Host) -> dict[str, Any]:
    """The pyinfra host data of one units-table row."""
    return {
        "ssh_hostname": host.address,
        "unit_code": host.unit_code,
        "unit_name": host.name,
        "tier": host.tier,
        "parent_code": host.parent,
        "roles": list(host.roles),
    }


def pyinfra_groups(hosts: Iterable[Host], connection: dict[str, Any] | None = None) -> dict:
    """pyinfra inventory groups for ``hosts``, in the shape an inventory file exports.

    + hosts: rows of a units table
    + connection: data every host shares (``ssh_user``, ``ssh_key``...), put on ``all``

    Example, in an inventory file::

        globals().update(pyinfra_groups(load_units("province.csv"), {"ssh_user": "root"}))
    """
    hosts = list(hosts)
    groups: dict[str, Any] = {
        "all": ([(host.host, host_data(host)) for host in hosts], dict(connection or {}))
    }
    for group in group_names():
        members = [host.host for host in hosts if group in host.roles or group == host.tier]
        if members:
            groups[group] = members
    return groups
