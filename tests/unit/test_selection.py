"""The lab boots the province's hosts and a chosen handful of one-stop units."""

import pytest

from inventory.thanhhoa import topology
from inventory.units import Host
from lab import LabError
from lab.selection import check_addresses, select_hosts


def names(hosts):
    return [h.host for h in hosts]


def test_the_2020_default_is_the_province_two_districts_and_three_communes_spread_over_them():
    chosen = select_hosts(topology("2020"), districts=2, communes=3)
    assert names(chosen) == ["portal-1", "db-1", "monitor-1", "huyen-thanh-hoa", "huyen-sam-son",
                             "xa-thanh-hoa-01", "xa-sam-son-01", "xa-thanh-hoa-02"]


def test_the_2025_default_is_the_province_and_five_commune_level_units():
    chosen = select_hosts(topology("2025"), districts=0, communes=5)
    assert [h.tier for h in chosen] == ["province"] * 3 + ["commune"] * 5


def test_districts_are_refused_for_the_2025_topology_which_has_none():
    with pytest.raises(LabError, match="no district level"):
        select_hosts(topology("2025"), districts=1, communes=0)


def test_more_communes_than_the_chosen_districts_hold_are_refused():
    with pytest.raises(LabError, match="only 21 communes under the 1 chosen districts"):
        select_hosts(topology("2020"), districts=1, communes=22)


def test_negative_sizes_are_refused():
    with pytest.raises(LabError, match="cannot be negative"):
        select_hosts(topology("2025"), districts=0, communes=-1)


def test_hosts_outside_the_lab_network_are_refused_by_name():
    outside = Host("portal-9", "000.00.00.H56", "Tỉnh", "province", "", "192.0.2.10", ("portal",))
    controller = Host("portal-8", "000.00.00.H56", "Tỉnh", "province", "", "198.18.0.1", ("portal",))
    with pytest.raises(LabError, match=r"portal-9 \(192.0.2.10\), portal-8 \(198.18.0.1\)"):
        check_addresses([outside, controller])
