"""The load test's target comes from the inventory: the province portal, the units dossiers
are filed with, the one-stop hosts that sync up, and the citizens' source addresses."""

import pytest

from loadtests.run_context import Run, plans_for, spec
from loadtests.model import Volume
from loadtests.profiles import profile
from loadtests.sources import missing, pool
from loadtests.target import TargetError, from_inventory


def entry(name, roles, unit, tier, address, **data):
    return {"name": name, "groups": list(roles), "data": {"roles": list(roles), "unit_code": unit, "tier": tier,
                                                          "ssh_hostname": address, **data}}


PROVINCE = [
    entry("portal-1", ["portal"], "000.00.00.H56", "province", "198.18.0.10"),
    entry("db-1", ["db"], "000.00.00.H56", "province", "198.18.0.11"),
    entry("huyen-a", ["onestop"], "000.00.14.H56", "district", "198.18.1.1"),
    entry("xa-a", ["onestop"], "000.17.22.H56", "commune", "198.18.2.1"),
]


def test_the_target_is_the_province_portal_with_the_inventorys_units():
    target = from_inventory(PROVINCE)
    assert target.base_url == "https://198.18.0.10" and target.province_unit == "000.00.00.H56"
    assert {(u.code, u.tier) for u in target.units} == {
        ("000.00.00.H56", "province"), ("000.00.14.H56", "district"), ("000.17.22.H56", "commune")}
    assert target.onestop_units == ("000.00.14.H56", "000.17.22.H56")


def test_an_inventory_without_a_portal_is_refused():
    with pytest.raises(TargetError, match="none of the province's portal hosts \\(role portal\\)"):
        from_inventory(PROVINCE[1:])


def test_without_one_stop_hosts_the_sync_journey_gets_no_users_and_says_why():
    target = from_inventory(PROVINCE[:2])
    plans = plans_for(target, Volume(), profile("peak"))
    assert plans["onestop_sync"].users == 0 and "none of the one-stop hosts (role onestop)" in plans["onestop_sync"].summary
    assert plans["applicant"].users > 0


def test_a_specification_round_trips_to_the_same_run():
    target = from_inventory(PROVINCE, ["198.18.250.1", "198.18.250.2"])
    run = Run.from_spec(spec(target, Volume(dossiers_per_day=5000), "spike", 300, 2.0))
    assert run.target == target and run.volume.dossiers_per_day == 5000
    assert (run.profile.name, run.profile.duration, run.profile.highest) == ("spike", 300, 2.0)
    assert [run.next_source_address() for _ in range(3)] == ["198.18.250.1", "198.18.250.2", "198.18.250.1"]


def test_source_address_pools_and_addresses_this_machine_cannot_send_from():
    assert pool("198.18.250.0/30") == ["198.18.250.1", "198.18.250.2"]
    assert pool(None) == []
    assert missing(["127.0.0.1"]) == [] and missing(["192.0.2.77"]) == ["192.0.2.77"]
    with pytest.raises(ValueError, match="source addresses"):
        pool("198.18.250.0/33")


def test_each_one_stop_host_syncs_with_its_own_certificate_from_the_deploys_ca(tmp_path):
    issued = tmp_path / "issued"
    issued.mkdir()
    (tmp_path / "ca.pem").write_text("CA")
    (issued / "xa-a.pem").write_text("cert")
    with_ca = [entry(e["name"], e["data"]["roles"], e["data"]["unit_code"], e["data"]["tier"],
                     e["data"]["ssh_hostname"], tls_ca_dir=str(tmp_path)) for e in PROVINCE]
    target = from_inventory(with_ca)
    assert target.sync_url == "https://198.18.0.10:8443/api/sync"
    # Only the host the CA issued a certificate to (deployed) plays its unit's sync.
    assert [(s.unit, s.cert_file, s.key_file) for s in target.senders] == [
        ("000.17.22.H56", str(issued / "xa-a.pem"), str(issued / "xa-a.key"))]
    (issued / "xa-a.pem").unlink()
    plans = plans_for(from_inventory(with_ca), Volume(), profile("peak"))
    assert plans["onestop_sync"].users == 0 and "deploy first" in plans["onestop_sync"].summary
