"""The current host and the others of the inventory, as the deploys need them: what the role
table says this host gets, and the other hosts by kind (addresses for allow lists)."""

from __future__ import annotations

from pyinfra import host, inventory

from inventory.roles import HostRoles, Kind


def this_host() -> HostRoles:
    """What the role table says the current host gets."""
    return HostRoles.of(host.data.roles)


def address_of(member=None) -> str:
    """The address a host is reached at: its ``ssh_hostname``, else its name (default: this host)."""
    member = member or host
    return member.data.ssh_hostname or member.name


def members_of(*kinds: Kind) -> list[tuple[str, str]]:
    """(name, address) of every inventory host of any of ``kinds``, by name (empty if none)."""
    found = {}
    for group in (group for kind in kinds for group in kind.groups):
        try:
            members = inventory.get_group(group)
        except Exception:  # pyinfra raises when a group is absent
            continue
        found.update({member.name: address_of(member) for member in members})
    return sorted(found.items())


def addresses_of(*kinds: Kind) -> list[str]:
    """The addresses of every inventory host of any of ``kinds`` (empty if there is none)."""
    return sorted({address for _, address in members_of(*kinds)})


def present(kind: Kind) -> bool:
    """True if the inventory has a host of ``kind``."""
    return bool(members_of(kind))
