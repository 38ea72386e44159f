"""Other hosts of the inventory, as the deploys need them (addresses for allow lists)."""

from __future__ import annotations

from pyinfra import host, inventory


def address_of(member=None) -> str:
    """The address a host is reached at: its ``ssh_hostname``, else its name (default: this host)."""
    member = member or host
    return member.data.ssh_hostname or member.name


def members_of(*groups: str) -> list[tuple[str, str]]:
    """(name, address) of every inventory host in any of ``groups``, by name (empty if none)."""
    found = {}
    for group in groups:
        try:
            members = inventory.get_group(group)
        except Exception:  # pyinfra raises when a group is absent
            continue
        found.update({member.name: address_of(member) for member in members})
    return sorted(found.items())


def addresses_of(*groups: str) -> list[str]:
    """The addresses of every inventory host in any of ``groups`` (empty if there is none)."""
    return sorted({address for _, address in members_of(*groups)})
