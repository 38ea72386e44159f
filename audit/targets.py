"""The hosts an audit looks at, with what it needs to reach them, from a pyinfra inventory."""

from __future__ import annotations

from dataclasses import dataclass

from inventory.roles import WEB_HOSTS


@dataclass(frozen=True)
class Target:
    """One host of the inventory: its name, address, roles and SSH login."""

    name: str
    address: str
    roles: tuple[str, ...]
    ssh_user: str
    ssh_port: int = 22
    ssh_key: str | None = None
    known_hosts: str | None = None

    @property
    def serves_web(self) -> bool:
        """Whether the host serves the portal over HTTPS (so testssl.sh looks at it)."""
        return WEB_HOSTS.matches(self.roles)

    @classmethod
    def from_inventory(cls, entry: dict) -> "Target":
        """A target from one host of ``pyinfra INVENTORY debug-inventory --json``."""
        data = entry.get("data", {})
        return cls(name=entry["name"], address=data.get("ssh_hostname") or entry["name"],
                   roles=tuple(data.get("roles") or ()), ssh_user=data.get("ssh_user") or "root",
                   ssh_port=int(data.get("ssh_port") or 22), ssh_key=data.get("ssh_key"),
                   known_hosts=data.get("ssh_known_hosts_file"))


def targets(inventory: str, limit: list[str] = ()) -> list[Target]:
    """The inventory's hosts (restricted by ``limit``) as audit targets."""
    from inventory.entries import inventory_entries

    return [Target.from_inventory(entry) for entry in inventory_entries(inventory, list(limit))]
