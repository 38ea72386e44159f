"""Thanh Hóa's two topologies, built as units tables.

- 2020 (the seed directive): the provincial portal, 27 district-level units and
  559 commune-level units, each below a district.
- 2025 (from 1 July 2025): the provincial portal and 166 commune-level units
  (19 wards, 147 communes); the district level is gone.

The counts and the district and ward names are the province's. The official
unit codes and the 559 (2020) and 147 (2025) commune names are not published in
a form this project could check, so those codes follow the national pattern
(``000.17.22.H56``) and communes carry numbered names; a province replaces them
with its official list by exporting a table (``portalops inventory export``),
editing it and pointing every command at the edited file.

Addresses lie in 198.18.0.0/16, the lab's network, so a built-in topology runs
on the lab as it is.
"""

from __future__ import annotations

import ipaddress
import unicodedata

from inventory.units import Host

PROVINCE_CODE = "000.00.00.H56"
PROVINCE_NAME = "UBND tỉnh Thanh Hóa"
NETWORK = ipaddress.ip_network("198.18.0.0/16")

# The provincial unit's own hosts: (host, roles, last octet in 198.18.0.0/24).
PROVINCE_HOSTS = (
    ("portal-1", ("portal",), 10),
    ("db-1", ("db",), 11),
    ("monitor-1", ("monitor", "backup"), 12),
)

# The 27 district-level units of the 2020 topology, in the order of DOMAIN.md.
DISTRICTS_2020 = (
    "Thành phố Thanh Hóa", "Thành phố Sầm Sơn", "Thị xã Bỉm Sơn", "Thị xã Nghi Sơn",
    "Huyện Hà Trung", "Huyện Nga Sơn", "Huyện Hậu Lộc", "Huyện Hoằng Hóa",
    "Huyện Quảng Xương", "Huyện Đông Sơn", "Huyện Nông Cống", "Huyện Triệu Sơn",
    "Huyện Thiệu Hóa", "Huyện Yên Định", "Huyện Vĩnh Lộc", "Huyện Thạch Thành",
    "Huyện Cẩm Thủy", "Huyện Ngọc Lặc", "Huyện Lang Chánh", "Huyện Bá Thước",
    "Huyện Quan Hóa", "Huyện Quan Sơn", "Huyện Mường Lát", "Huyện Thường Xuân",
    "Huyện Như Xuân", "Huyện Như Thanh", "Huyện Thọ Xuân",
)
COMMUNES_2020 = 559

# The 19 wards of the 2025 topology (Resolution 1686/NQ-UBTVQH15 of 16 June 2025).
WARDS_2025 = (
    "Hạc Thành", "Quảng Phú", "Đông Quang", "Đông Sơn", "Đông Tiến", "Hàm Rồng",
    "Nguyệt Viên", "Sầm Sơn", "Nam Sầm Sơn", "Bỉm Sơn", "Quang Trung", "Ngọc Sơn",
    "Tân Dân", "Hải Lĩnh", "Tĩnh Gia", "Đào Duy Từ", "Hải Bình", "Trúc Lâm", "Nghi Sơn",
)
COMMUNES_2025 = 147

TOPOLOGIES = ("2020", "2025")


def slug(name: str) -> str:
    """A DNS-safe ASCII form of a Vietnamese name: 'Hà Trung' -> 'ha-trung'."""
    name = name.replace("Đ", "D").replace("đ", "d")
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "-".join("".join(c if c.isalnum() else " " for c in ascii_name.lower()).split())


DISTRICT_KINDS = ("Thành phố ", "Thị xã ", "Huyện ")


def _without_kind(name: str) -> str:
    """'Huyện Hà Trung' -> 'Hà Trung': the kind of unit is not part of its host name."""
    for kind in DISTRICT_KINDS:
        if name.startswith(kind):
            return name.removeprefix(kind)
    return name


def _address(index: int) -> str:
    """The index-th address of the lab network (.0.1 is the controller's bridge)."""
    return str(NETWORK[index])


def _province_hosts() -> list[Host]:
    return [
        Host(host, PROVINCE_CODE, PROVINCE_NAME, "province", "", _address(octet), roles)
        for host, roles, octet in PROVINCE_HOSTS
    ]


def _one_stop(host: str, code: str, name: str, tier: str, parent: str, index: int) -> Host:
    return Host(host, code, name, tier, parent, _address(index), ("onestop",))


def _split_evenly(total: int, parts: int) -> list[int]:
    """Split ``total`` into ``parts`` counts that differ by at most one, larger first."""
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def topology_2020() -> list[Host]:
    """Province + 27 district-level units + 559 communes, each commune under a district.

    Districts take 198.18.1.x, communes 198.18.2.1 onwards.
    """
    hosts = _province_hosts()
    communes: list[Host] = []
    for number, (district, count) in enumerate(
        zip(DISTRICTS_2020, _split_evenly(COMMUNES_2020, len(DISTRICTS_2020))), start=1
    ):
        district_code = f"000.00.{10 + number:02d}.H56"
        district_slug = slug(_without_kind(district))
        hosts.append(
            _one_stop(f"huyen-{district_slug}", district_code, district, "district",
                      PROVINCE_CODE, 256 + number)
        )
        for commune in range(1, count + 1):
            communes.append(
                _one_stop(
                    f"xa-{district_slug}-{commune:02d}",
                    f"000.{commune:02d}.{10 + number:02d}.H56",
                    f"Xã số {commune:02d}, {district}",
                    "commune",
                    district_code,
                    512 + len(communes) + 1,
                )
            )
    return hosts + communes


def topology_2025() -> list[Host]:
    """Province + 166 commune-level units (19 wards, 147 communes), no districts.

    Commune-level units take 198.18.2.1 onwards, wards first.
    """
    names = [("phuong", f"Phường {ward}", slug(ward)) for ward in WARDS_2025] + [
        ("xa", f"Xã số {n:03d}", f"{n:03d}") for n in range(1, COMMUNES_2025 + 1)
    ]
    hosts = _province_hosts()
    for index, (kind, name, host_slug) in enumerate(names):
        code = f"000.{50 + index // 100:02d}.{index % 100:02d}.H56"
        hosts.append(
            _one_stop(f"{kind}-{host_slug}", code, name, "commune", PROVINCE_CODE, 513 + index)
        )
    return hosts


def topology(name: str) -> list[Host]:
    """The built-in topology called ``name`` ('2020' or '2025')."""
    builders = {"2020": topology_2020, "2025": topology_2025}
    if name not in builders:
        raise ValueError(f"unknown topology {name!r}; built-in topologies: {', '.join(TOPOLOGIES)}")
    return builders[name]()
