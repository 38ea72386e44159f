"""Other hosts of the inventory, as the deploys need them (addresses for allow lists)."""

from __future__ import annotations

from pyinfra import inventory


def addresses_of(group: str) -> list[str]:
    """The addresses of every inventory host in ``group`` (empty if there is none)."""
    try:
        members = inventory.get_group(group)
    except Exception:  # pyinfra raises when a group is absent
        return []
    return sorted({member.data.ssh_hostname or member.name for member in members})
