"""What a load test aims at, derived from the inventory: the province portal's address and CA,
the units dossiers are filed with, the one-stop hosts that sync up, and the sync token.

Nothing here is typed twice: addresses, unit codes and tiers come from the units table
through the pyinfra inventory, the CA and the token from where the deploy keeps them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from deploy import defaults
from deploy.secrets import secrets_dir
from deploy.tls import ca_dir
from inventory.roles import ONESTOP_HOSTS, PROVINCE_PORTALS

SYNC_TOKEN = "sync-inbound-token"  # the deploy's secret the province checks one-stop hosts by


class TargetError(ValueError):
    """The inventory cannot be load-tested as it is; the message says why."""


@dataclass(frozen=True)
class Unit:
    """An administrative unit dossiers are filed with."""

    code: str
    tier: str  # province, district or commune


@dataclass(frozen=True)
class Target:
    """The portal under load and the units its journeys use."""

    base_url: str
    ca_file: str | None
    province_unit: str
    units: tuple[Unit, ...]
    onestop_units: tuple[str, ...] = ()
    sync_token_file: str | None = None
    source_addresses: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict:
        """Plain data, to hand to Locust's workers."""
        return asdict(self)

    @classmethod
    def from_dict(cls, value: dict) -> "Target":
        """The inverse of :meth:`as_dict`."""
        return cls(**dict(value, units=tuple(Unit(**u) for u in value["units"]),
                          onestop_units=tuple(value.get("onestop_units", ())),
                          source_addresses=tuple(value.get("source_addresses", ()))))


def from_inventory(entries: list[dict], source_addresses: list[str] = ()) -> Target:
    """The target of inventory ``entries`` (as ``inventory.entries.inventory_entries`` gives them):
    the first of the province's portal hosts, over HTTPS, trusting the deploy's CA."""
    portals = [e for e in entries if PROVINCE_PORTALS.matches(e["data"].get("roles") or [])]
    if not portals:
        raise TargetError(f"the inventory has none of {PROVINCE_PORTALS}: nothing to load")
    portal = portals[0]
    data = {**defaults.ALL, **portal["data"]}
    address = data.get("ssh_hostname") or portal["name"]
    ca_file = ca_dir(type("Data", (), data)) / "ca.pem"
    province = data["unit_code"]
    units = {province: Unit(province, "province")}
    for entry in entries:
        code, tier = entry["data"].get("unit_code"), entry["data"].get("tier")
        if code and tier in ("district", "commune"):
            units.setdefault(code, Unit(code, tier))
    onestop = sorted({e["data"]["unit_code"] for e in entries
                      if ONESTOP_HOSTS.matches(e["data"].get("roles") or []) and e["data"].get("unit_code")})
    token = secrets_dir(data.get("secrets_dir")) / SYNC_TOKEN
    return Target(base_url=f"https://{address}", ca_file=str(ca_file) if ca_file.exists() else None,
                  province_unit=province, units=tuple(units.values()), onestop_units=tuple(onestop),
                  sync_token_file=str(token) if token.exists() else None,
                  source_addresses=tuple(source_addresses))


def read_token(path: str | None) -> str:
    """The sync token the province expects from one-stop hosts, or TargetError."""
    if not path or not Path(path).exists():
        raise TargetError(f"no sync token ({path or SYNC_TOKEN} in the secrets directory): deploy the portal first")
    return Path(path).read_text().strip()
