"""What a load test aims at, derived from the inventory: the province portal's address and CA,
the units dossiers are filed with, and the one-stop hosts that sync up, each with the client
certificate the deploy's CA issued it (the province's sync listener takes a unit's messages
from that unit's host only).

Nothing here is typed twice: addresses, unit codes and tiers come from the units table
through the pyinfra inventory, the CA and the certificates from where the deploy keeps them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from deploy import defaults
from deploy.tls import ca_dir
from inventory.roles import ONESTOP_HOSTS, PROVINCE_PORTALS


class TargetError(ValueError):
    """The inventory cannot be load-tested as it is; the message says why."""


@dataclass(frozen=True)
class Unit:
    """An administrative unit dossiers are filed with."""

    code: str
    tier: str  # province, district or commune


@dataclass(frozen=True)
class Sender:
    """A one-stop host as the province's sync listener knows it: its unit and its client
    certificate and key (the deploy's CA's, on the controller)."""

    unit: str
    cert_file: str
    key_file: str


@dataclass(frozen=True)
class Target:
    """The portal under load and the units its journeys use."""

    base_url: str
    ca_file: str | None
    province_unit: str
    units: tuple[Unit, ...]
    onestop_units: tuple[str, ...] = ()
    sync_url: str | None = None  # the province's sync listener
    senders: tuple[Sender, ...] = ()  # the one-stop hosts with a certificate (deployed)
    source_addresses: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict:
        """Plain data, to hand to Locust's workers."""
        return asdict(self)

    @classmethod
    def from_dict(cls, value: dict) -> "Target":
        """The inverse of :meth:`as_dict`."""
        return cls(**dict(value, units=tuple(Unit(**u) for u in value["units"]),
                          onestop_units=tuple(value.get("onestop_units", ())),
                          senders=tuple(Sender(**sender) for sender in value.get("senders", ())),
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
    onestop = [e for e in entries if ONESTOP_HOSTS.matches(e["data"].get("roles") or []) and e["data"].get("unit_code")]
    issued = ca_file.parent / "issued"
    senders = [Sender(e["data"]["unit_code"], str(issued / f"{e['name']}.pem"), str(issued / f"{e['name']}.key"))
               for e in onestop if (issued / f"{e['name']}.pem").exists()]
    return Target(base_url=f"https://{address}", ca_file=str(ca_file) if ca_file.exists() else None,
                  province_unit=province, units=tuple(units.values()),
                  onestop_units=tuple(sorted({e["data"]["unit_code"] for e in onestop})),
                  sync_url=f"https://{address}:{data['sync_port']}/api/sync", senders=tuple(senders),
                  source_addresses=tuple(source_addresses))
