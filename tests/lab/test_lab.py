"""The lab on real hosts: booted Debian 12 with systemd, reached over SSH, and gone after down.

These tests own the lab: they bring it down first and leave it down.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import testinfra

from lab import settings
from lab.lifecycle import leftovers
from lab.ssh import run_on

pytestmark = pytest.mark.lab

PORTALOPS = str(Path(sys.executable).with_name("portalops"))
PYINFRA = str(Path(sys.executable).with_name("pyinfra"))
SIZE = ["--topology", "2020", "--districts", "1", "--communes", "2"]
EXPECTED = ["portal-1", "db-1", "monitor-1", "huyen-thanh-hoa", "xa-thanh-hoa-01", "xa-thanh-hoa-02"]


def portalops(*args, check=True):
    result = subprocess.run([PORTALOPS, *args], capture_output=True, text=True, timeout=900)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def lab_table():
    """host -> address, from the inventory pyinfra itself loads."""
    result = subprocess.run([PYINFRA, str(settings.INVENTORY_FILE), "debug-inventory", "--json"],
                            capture_output=True, text=True, check=True, cwd="/")
    return {h["name"]: h["data"]["ssh_hostname"] for h in json.loads(result.stdout)}


INOTIFY = Path("/proc/sys/fs/inotify/max_user_instances")
BEFORE = {}


@pytest.fixture(scope="module")
def lab():
    portalops("lab", "down")
    BEFORE["inotify"] = INOTIFY.read_text()
    first = portalops("lab", "up", *SIZE)
    yield first
    portalops("lab", "down", check=False)


def test_up_boots_the_chosen_hosts_and_status_shows_ssh_answering_on_each(lab):
    assert "6 hosts (6 booted, 0 kept, 0 removed)" in lab.stdout
    status = portalops("lab", "status")
    rows = [line.split() for line in status.stdout.splitlines()[1:]]
    # The province's hosts, then the lab's own host for the national-service stand-ins.
    assert [row[0] for row in rows] == [*EXPECTED, settings.NATIONAL_HOST]
    assert all(row[-2:] == ["running", "ok"] for row in rows)
    assert settings.NATIONAL_HOST not in lab_table()  # not a host of the province's inventory


def test_each_host_is_a_booted_debian_12_reached_over_ssh_with_strict_host_keys(lab):
    for name, address in lab_table().items():
        result = run_on(address, "hostname; . /etc/os-release; echo $VERSION_ID; systemctl is-system-running")
        assert result.stdout.split() == [name, "12", "running"], result.stderr


def test_testinfra_reaches_hosts_through_the_lab_ssh_config(lab):
    host = testinfra.get_host(f"ssh://db-1?ssh_config={settings.SSH_CONFIG}", sudo=True)
    assert host.service("ssh").is_running
    assert host.file(f"/home/{settings.SSH_USER}/.ssh/authorized_keys").mode == 0o600
    assert host.user().name == "root"  # sudo works without a password


def test_hosts_reach_each_other_by_name(lab):
    table = lab_table()
    probe = "; ".join(f"(echo > /dev/tcp/{name}/22) 2>/dev/null && echo {name}" for name in table)
    for address in table.values():
        assert run_on(address, "bash", "-c", f"'{probe}'").stdout.split() == list(table)


def test_hosts_have_no_route_off_the_lab(lab):
    for address in lab_table().values():
        routes = run_on(address, "ip", "route").stdout
        assert "default" not in routes and routes.strip().startswith(str(settings.LAB_NETWORK))
    rules = subprocess.run(["nft", "list", "table", "inet", "portalops_lab"], capture_output=True, text=True)
    assert f'iifname "{settings.BRIDGE}" oifname != "{settings.BRIDGE}" drop' in rules.stdout


def test_a_host_installs_a_package_through_the_controller_apt_cache(lab):
    address = lab_table()["xa-thanh-hoa-02"]
    install = run_on(address, "sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive "
                     "apt-get install -y -qq --no-install-recommends hello >/dev/null && hello", timeout=300)
    assert install.stdout.strip() == "Hello, world!", install.stderr
    log = (settings.APT_CACHE_DIR / "log/apt-cacher.log").read_text()
    assert "/hello_" in log


def test_pyinfra_runs_on_every_host_from_the_lab_inventory(lab):
    result = subprocess.run([PYINFRA, "-y", str(settings.INVENTORY_FILE), "exec", "--", "id -un"],
                            capture_output=True, text=True, cwd="/")
    assert result.returncode == 0, result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert all(re.search(rf"^\[{name}\]\s+root$", output, re.M) for name in EXPECTED)  # through sudo
    assert re.search(r"Grand total\s+6\s+6\s+-", result.stdout + result.stderr)  # 6 hosts, 6 succeeded, no error


def test_up_again_keeps_the_running_hosts(lab):
    pids = {p.name: (p / "nspawn.pid").read_text() for p in settings.HOSTS_DIR.iterdir()}
    again = portalops("lab", "up", *SIZE)
    assert "6 hosts (0 booted, 6 kept, 0 removed)" in again.stdout
    assert pids == {p.name: (p / "nspawn.pid").read_text() for p in settings.HOSTS_DIR.iterdir()}


def test_up_grows_and_shrinks_the_lab_to_the_new_selection(lab):
    grown = portalops("lab", "up", "--topology", "2020", "--districts", "1", "--communes", "3")
    assert "7 hosts (1 booted, 6 kept, 0 removed)" in grown.stdout
    assert "xa-thanh-hoa-03" in lab_table()
    shrunk = portalops("lab", "up", *SIZE)
    assert "6 hosts (0 booted, 6 kept, 1 removed)" in shrunk.stdout
    assert "xa-thanh-hoa-03" not in lab_table()


def test_down_leaves_no_process_mount_link_or_bridge(lab):
    portalops("lab", "down")
    assert leftovers() == []
    processes = subprocess.run(["ps", "-eo", "stat=,args="], capture_output=True, text=True).stdout
    live = [line for line in processes.splitlines() if not line.startswith("Z")]
    assert not [line for line in live if "systemd-nspawn" in line or "apt-cacher-ng -c" in line]
    assert str(settings.STATE_DIR) not in Path("/proc/self/mountinfo").read_text()
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    assert settings.BRIDGE not in links and " vb-" not in links
    assert not settings.INVENTORY_FILE.exists()
    assert INOTIFY.read_text() == BEFORE["inotify"]
