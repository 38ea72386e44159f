"""The units table: the one place where a province's hosts are written down.

Each row is one host of one administrative unit. Everything else (the pyinfra
inventory, scrape targets, load-test targets, runbook host lists) is derived from
these rows, so a new commune is one new row.

Columns (header required, order free):

    host       host name (a DNS label: lower-case letters, digits, '-')
    unit_code  the unit's code, e.g. 000.00.14.H56
    name       the unit's name, e.g. "Huyện Hà Trung"
    tier       province | district | commune
    parent     unit code of the unit above (optional; district/province for a commune)
    address    the host's IP address
    roles      space-separated roles: portal db monitor backup onestop (inventory/roles.py)

The province's own unit may have several hosts (portal, db, monitor...); a
district or commune unit has exactly one one-stop server, so its unit code must
not repeat.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from inventory.roles import ROLES

TIERS = ("province", "district", "commune")
REQUIRED_COLUMNS = ("host", "unit_code", "name", "tier", "address", "roles")
OPTIONAL_COLUMNS = ("parent",)
COLUMNS = REQUIRED_COLUMNS[:4] + OPTIONAL_COLUMNS + REQUIRED_COLUMNS[4:]

# 000.00.14.H56: three digits, two two-digit groups, then the province letter and number.
UNIT_CODE = re.compile(r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$")
HOST_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


class UnitsTableError(ValueError):
    """A units table that cannot be used; the message names every bad row and why."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "\n  ".join(["units table refused:"] + problems))


@dataclass(frozen=True)
class Host:
    """One host of one administrative unit, as written in the units table."""

    host: str
    unit_code: str
    name: str
    tier: str
    parent: str
    address: str
    roles: tuple[str, ...]

    def as_row(self) -> dict[str, str]:
        """The host as a units-table row (the inverse of parsing)."""
        return {
            "host": self.host,
            "unit_code": self.unit_code,
            "name": self.name,
            "tier": self.tier,
            "parent": self.parent,
            "address": self.address,
            "roles": " ".join(self.roles),
        }


def _row_problems(row: dict[str, str]) -> tuple[list[str], Host | None]:
    """Check one row on its own; return its problems and, if none, the Host."""
    problems = []
    values = {key: (row.get(key) or "").strip() for key in COLUMNS}
    for column in REQUIRED_COLUMNS:
        if not values[column]:
            problems.append(f"empty {column!r}")
    if values["host"] and not HOST_NAME.match(values["host"]):
        problems.append(
            f"host name {values['host']!r} is not a DNS label (lower-case letters, digits, '-')"
        )
    if values["unit_code"] and not UNIT_CODE.match(values["unit_code"]):
        problems.append(f"unit code {values['unit_code']!r} is not of the form 000.00.14.H56")
    if values["parent"] and not UNIT_CODE.match(values["parent"]):
        problems.append(f"parent {values['parent']!r} is not of the form 000.00.14.H56")
    if values["tier"] and values["tier"] not in TIERS:
        problems.append(f"unknown tier {values['tier']!r}; known tiers: {', '.join(TIERS)}")
    if values["address"]:
        try:
            ipaddress.ip_address(values["address"])
        except ValueError:
            problems.append(f"bad address {values['address']!r}")
    roles = tuple(values["roles"].replace(",", " ").split())
    unknown = [role for role in roles if role not in ROLES]
    if unknown:
        problems.append(
            f"unknown role {', '.join(map(repr, unknown))}; known roles: {', '.join(ROLES)}"
        )
    if len(set(roles)) != len(roles):
        problems.append(f"role listed twice in {values['roles']!r}")
    if problems:
        return problems, None
    return [], Host(
        host=values["host"],
        unit_code=values["unit_code"],
        name=values["name"],
        tier=values["tier"],
        parent=values["parent"],
        address=str(ipaddress.ip_address(values["address"])),
        roles=roles,
    )


def _table_problems(numbered: list[tuple[int, Host]]) -> list[str]:
    """Check what no single row shows: duplicates, inconsistent units, dangling parents."""
    problems = []
    seen_host: dict[str, int] = {}
    seen_address: dict[str, int] = {}
    unit_first: dict[str, tuple[int, Host]] = {}
    for line, host in numbered:
        if host.host in seen_host:
            problems.append(f"row {line}: duplicate host {host.host!r} (first on row {seen_host[host.host]})")
        seen_host.setdefault(host.host, line)
        if host.address in seen_address:
            problems.append(
                f"row {line}: duplicate address {host.address} (first on row {seen_address[host.address]})"
            )
        seen_address.setdefault(host.address, line)
        if host.unit_code in unit_first:
            first_line, first = unit_first[host.unit_code]
            if host.tier != "province" or first.tier != "province":
                problems.append(
                    f"row {line}: duplicate unit code {host.unit_code} (first on row {first_line});"
                    " only the province's unit may have several hosts"
                )
            elif host.name != first.name:
                problems.append(
                    f"row {line}: unit {host.unit_code} is named {host.name!r} here"
                    f" but {first.name!r} on row {first_line}"
                )
        unit_first.setdefault(host.unit_code, (line, host))
    for line, host in numbered:
        if host.parent and host.parent not in unit_first:
            problems.append(f"row {line}: parent {host.parent} is not a unit in this table")
        elif host.parent:
            parent_tier = unit_first[host.parent][1].tier
            if TIERS.index(parent_tier) >= TIERS.index(host.tier):
                problems.append(
                    f"row {line}: parent {host.parent} is a {parent_tier}, not above a {host.tier}"
                )
    if numbered and not any(host.tier == "province" for _, host in numbered):
        problems.append("no province-tier host: the portal needs one")
    return problems


def parse_units(text: str, source: str = "units table") -> list[Host]:
    """Parse a units table in CSV form; raise UnitsTableError naming every bad row.

    + text: the CSV text, header first
    + source: how to name the table in error messages (usually its path)

    Example: ``parse_units(Path("province.csv").read_text(), "province.csv")``
    """
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        return _parse(reader, source)
    except csv.Error as error:
        raise UnitsTableError(source, [f"row {reader.line_num}: not valid CSV: {error}"]) from error


def _parse(reader: csv.DictReader, source: str) -> list[Host]:
    header = [name.strip() for name in (reader.fieldnames or [])]
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        raise UnitsTableError(source, [f"header: missing column {', '.join(map(repr, missing))}"])
    unknown = [column for column in header if column not in COLUMNS]
    if unknown:
        raise UnitsTableError(source, [f"header: unknown column {', '.join(map(repr, unknown))}"])
    reader.fieldnames = header
    problems: list[str] = []
    numbered: list[tuple[int, Host]] = []
    for row in reader:
        line = reader.line_num
        if None in row:
            problems.append(f"row {line}: more fields than columns")
            continue
        if not any((value or "").strip() for value in row.values()):
            continue
        row_problems, host = _row_problems(row)
        label = f"row {line}" + (f" (host {row.get('host', '').strip()})" if row.get("host") else "")
        problems.extend(f"{label}: {problem}" for problem in row_problems)
        if host:
            numbered.append((line, host))
    if not numbered and not problems:
        problems.append("no hosts")
    problems.extend(_table_problems(numbered))
    if problems:
        raise UnitsTableError(source, problems)
    return [host for _, host in numbered]


def load_units(path: str | Path) -> list[Host]:
    """Read and validate the units table at ``path`` (see ``parse_units``)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise UnitsTableError(str(path), [f"cannot read: {error.strerror}"]) from error
    except UnicodeDecodeError as error:
        raise UnitsTableError(str(path), [f"not UTF-8 text: {error.reason}"]) from error
    return parse_units(text, str(path))


def format_units(hosts: Iterable[Host]) -> str:
    """Write hosts back as a units table in CSV form, the header first."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for host in hosts:
        writer.writerow(host.as_row())
    return out.getvalue()
