"""A units table becomes a pyinfra inventory that pyinfra itself loads."""

import json
import subprocess
import sys
from pathlib import Path

from inventory.groups import pyinfra_groups
from inventory.pyinfra_file import write_inventory_file
from inventory.thanhhoa import topology
from inventory.units import format_units

ROOT = Path(__file__).resolve().parents[2]
PYINFRA = Path(sys.executable).with_name("pyinfra")


def pyinfra_sees(inventory_file) -> dict:
    """What the pyinfra command itself loads from an inventory file: name -> host."""
    result = subprocess.run([PYINFRA, str(inventory_file), "debug-inventory", "--json"],
                            capture_output=True, text=True, check=True, cwd="/")
    return {host["name"]: host for host in json.loads(result.stdout)}


def test_groups_follow_roles_and_tiers():
    groups = pyinfra_groups(topology("2020"))
    assert groups["portal"] == ["portal-1"]
    assert groups["db"] == ["db-1"]
    assert groups["monitor"] == groups["backup"] == ["monitor-1"]
    assert len(groups["district"]) == 27
    assert len(groups["commune"]) == 559
    assert len(groups["onestop"]) == 27 + 559


def test_the_2025_topology_has_no_district_group():
    assert "district" not in pyinfra_groups(topology("2025"))


def test_each_host_carries_its_unit_and_the_shared_connection_data():
    hosts, shared = pyinfra_groups(topology("2025"), {"ssh_user": "admin"})["all"]
    name, data = hosts[3]
    assert name == "phuong-hac-thanh"
    assert data["unit_code"] == "000.50.00.H56" and data["ssh_hostname"] == "198.18.2.1"
    assert shared == {"ssh_user": "admin"}


def test_pyinfra_loads_the_shipped_inventory_with_every_group():
    hosts = pyinfra_sees(ROOT / "deploy/inventories/thanhhoa_2025.py")
    assert len(hosts) == 169
    assert [name for name, h in hosts.items() if "portal" in h["groups"]] == ["portal-1"]
    commune = hosts["xa-147"]
    assert commune["data"]["tier"] == "commune" and commune["data"]["ssh_hostname"] == "198.18.2.166"
    assert set(commune["groups"]) >= {"commune", "onestop"}


def test_a_written_inventory_file_reads_the_table_when_pyinfra_loads_it(tmp_path):
    table = tmp_path / "province.csv"
    table.write_text(format_units(topology("2020")[:5]))
    inventory_file = write_inventory_file(table, tmp_path / "province.py", {"ssh_user": "admin"})
    hosts = pyinfra_sees(inventory_file)
    assert [n for n, h in hosts.items() if "district" in h["groups"]] == ["huyen-thanh-hoa", "huyen-sam-son"]
    assert hosts["db-1"]["data"]["ssh_user"] == "admin"
