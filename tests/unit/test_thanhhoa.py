"""The two built-in Thanh Hóa topologies have the province's real shape."""

from collections import Counter

import ipaddress

import pytest

from inventory.thanhhoa import DISTRICTS_2020, NETWORK, WARDS_2025, slug, topology
from inventory.units import format_units, parse_units


def test_2020_has_the_portal_27_districts_and_559_communes_each_under_a_district():
    hosts = topology("2020")
    tiers = Counter(h.tier for h in hosts)
    assert tiers == {"province": 3, "district": 27, "commune": 559}
    districts = {h.unit_code for h in hosts if h.tier == "district"}
    assert all(h.parent in districts for h in hosts if h.tier == "commune")
    assert [h.name for h in hosts if h.tier == "district"] == list(DISTRICTS_2020)


def test_2025_has_the_portal_and_166_commune_level_units_of_which_19_wards():
    hosts = topology("2025")
    assert Counter(h.tier for h in hosts) == {"province": 3, "commune": 166}
    assert sum(h.name.startswith("Phường") for h in hosts) == len(WARDS_2025) == 19


@pytest.mark.parametrize("name", ["2020", "2025"])
def test_a_built_in_topology_is_a_valid_units_table_on_the_lab_network(name):
    hosts = topology(name)
    assert parse_units(format_units(hosts)) == hosts
    assert all(ipaddress.ip_address(h.address) in NETWORK for h in hosts)
    roles = Counter(role for h in hosts for role in h.roles)
    assert (roles["portal"], roles["db"], roles["monitor"], roles["backup"]) == (1, 1, 1, 1)


def test_an_unknown_topology_is_refused_naming_the_built_in_ones():
    with pytest.raises(ValueError, match="built-in topologies: 2020, 2025"):
        topology("2019")


def test_vietnamese_names_become_dns_labels():
    assert slug("Đông Sơn") == "dong-son"
    assert slug("Hoằng Hóa") == "hoang-hoa"
    assert slug("Thành phố Thanh Hóa") == "thanh-pho-thanh-hoa"
