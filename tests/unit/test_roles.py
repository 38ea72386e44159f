"""The role table (inventory/roles.py) is the one place a role's meaning is written: the deploy,
the firewall, the expected ports, the services collector's configuration and the scrape targets
all read it, a new role is one entry, and no deploy or collector tests a role's name by hand."""

import ast
import contextlib
from pathlib import Path
from types import SimpleNamespace

import pytest
from pyinfra.api import Inventory
from pyinfra.context import ctx_host, ctx_inventory

from deploy import defaults
from deploy.exporter_config import agent_config, expected_ports
from deploy.firewall import allow_rules
from deploy.scrape_targets import Member, targets
from inventory import roles
from inventory.groups import pyinfra_groups
from inventory.roles import EVERY_HOST, NGINX, PUBLIC_WEB, ROLES, HostRoles, Role
from inventory.units import Host, parse_units

ROOT = Path(__file__).resolve().parents[2]
PROVINCE = "000.00.00.H56"
PORTAL = Host("portal-1", PROVINCE, "Tỉnh", "province", "", "198.18.0.10", ("portal",))
DB = Host("db-1", PROVINCE, "Tỉnh", "province", "", "198.18.0.11", ("db",))
MONITOR = Host("monitor-1", PROVINCE, "Tỉnh", "province", "", "198.18.0.12", ("monitor", "backup"))
COMMUNE = Host("xa-1", "000.17.22.H56", "Xã Một", "commune", PROVINCE, "198.18.2.1", ("onestop",))
ADMINS = ["198.18.0.1/32"]
HARDENING = ["base", "patching", "ssh", "firewall", "kernel", "accounts", "intrusion", "accounting"]


def inventory(*hosts: Host) -> Inventory:
    """A pyinfra inventory of ``hosts`` with the deploy's defaults, as a deploy sees it."""
    groups = pyinfra_groups(hosts, {**defaults.ALL, "admin_networks": ADMINS})
    return Inventory(groups.pop("all"), **{group: (members, {}) for group, members in groups.items()})


@contextlib.contextmanager
def deploying(inv: Inventory, name: str):
    """Inside a deploy of host ``name`` of ``inv``."""
    with ctx_inventory.use(inv), ctx_host.use(inv.get_host(name)):
        yield inv.get_host(name)


def firewall_of(inv: Inventory, name: str) -> tuple[list[int], dict[str, tuple[list[int], list[str]]]]:
    """(public ports, {rule: (ports, sources)}) the firewall opens on host ``name``."""
    with deploying(inv, name) as member:
        public, rules = allow_rules(HostRoles.of(member.data.roles))
    return public, {rule["name"]: (rule["ports"], rule["sources"]) for rule in rules}


def services_of(inv: Inventory, name: str) -> list[str]:
    with deploying(inv, name) as member:
        return agent_config(member.data, list(member.data.roles), name)["collectors"]["services"]["services"]


EVERY_HOST_SERVICES = ["sshd", "fail2ban", "node-exporter"]


def test_every_host_gets_the_hardening_the_monitoring_agent_and_the_integrity_baselines_then_its_roles_deploys():
    assert HostRoles.of([]).deploys == [*HARDENING, "monitoring_agent", "integrity"]
    everyone = HostRoles.of([]).deploys
    assert HostRoles.of(["portal"]).deploys == [*everyone, "web", "app"]
    assert HostRoles.of(["db"]).deploys == [*everyone, "database", "backups"]
    assert HostRoles.of(["onestop"]).deploys == [*everyone, "database", "backups", "web", "app"]
    assert HostRoles.of(["monitor", "backup"]).deploys == [*everyone, "monitoring_server", "backups"]


def test_each_role_runs_its_services_and_pgbackrests_server_runs_where_a_backup_host_takes_copies():
    full = inventory(PORTAL, DB, MONITOR, COMMUNE)
    assert services_of(full, "portal-1") == [*EVERY_HOST_SERVICES, "nginx", "dichvucong-web", "dichvucong-outbox"]
    assert services_of(full, "db-1") == [*EVERY_HOST_SERVICES, "postgresql", "pgbackrest"]
    assert services_of(full, "monitor-1") == [*EVERY_HOST_SERVICES, "prometheus", "alertmanager", "pgbackrest"]
    assert services_of(full, "xa-1") == [*EVERY_HOST_SERVICES, "nginx", "dichvucong-web", "dichvucong-outbox",
                                          "postgresql", "pgbackrest"]
    no_backup_host = inventory(PORTAL, DB, Host("monitor-1", PROVINCE, "Tỉnh", "province", "", "198.18.0.12",
                                                ("monitor",)))
    assert services_of(no_backup_host, "db-1") == [*EVERY_HOST_SERVICES, "postgresql"]


def test_a_host_with_two_roles_gets_each_thing_once():
    both = HostRoles.of(["onestop", "portal"])
    assert both.deploys.count("web") == 1 and both.deploys.count("app") == 1
    assert both.services(lambda kind: False) == [*EVERY_HOST_SERVICES, "nginx", "dichvucong-web",
                                                 "dichvucong-outbox", "postgresql"]
    assert [store.name for store in both.stores] == ["uploads", "database", "backup_repository"]
    assert [opening.name for opening in both.openings].count("public_web") == 1


def test_the_firewall_opens_each_roles_ports_to_the_hosts_of_each_kind_in_the_inventory():
    full = inventory(PORTAL, DB, MONITOR, COMMUNE)
    public, rules = firewall_of(full, "db-1")
    assert public == [] and rules == {
        "monitor_hosts": ([9100, 9120, 9187], ["198.18.0.12"]),
        "app_hosts": ([5432], ["198.18.0.10"]),
        "backup_hosts": ([8432], ["198.18.0.12"])}
    public, rules = firewall_of(full, "portal-1")
    # The province's portal takes sync from the one-stop hosts only.
    assert public == [80, 443] and rules == {"monitor_hosts": ([9100, 9120, 9113], ["198.18.0.12"]),
                                             "onestop_sync": ([8443], ["198.18.2.1"])}
    public, rules = firewall_of(full, "monitor-1")
    # Nothing for the national-service stand-ins: they are an outside party's, not the province's.
    assert public == [] and rules == {
        "monitor_hosts": ([9100, 9120], ["198.18.0.12"]),
        "admins_to_monitor": ([9090, 9093], ADMINS),
        "database_hosts": ([8432], ["198.18.0.11", "198.18.2.1"])}
    public, rules = firewall_of(full, "xa-1")
    assert public == [80, 443] and set(rules) == {"monitor_hosts", "backup_hosts"}


def test_an_opening_with_no_source_in_the_inventory_opens_nothing_and_is_not_expected_to_listen():
    alone = inventory(PORTAL, DB)
    public, rules = firewall_of(alone, "db-1")
    assert rules == {"app_hosts": ([5432], ["198.18.0.10"])}
    with deploying(alone, "db-1") as member:
        assert 8432 not in expected_ports(member.data, ["db"])
        assert {9100, 9120, 9187, 5432} <= set(expected_ports(member.data, ["db"]))


def test_stores_follow_the_roles_and_move_with_the_deploys_setting():
    host = SimpleNamespace(**{**defaults.ALL, "backup_repo_path": "/srv/pgbackrest"})
    stores = {store.name: store.path_in(host) for store in HostRoles.of(["db"]).stores}
    assert stores == {"database": "/var/lib/postgresql", "backup_repository": "/srv/pgbackrest"}
    assert {store.name for store in HostRoles.of(["portal"]).stores} == {"uploads"}


def test_the_scrape_targets_follow_each_roles_exporters():
    members = [Member(h.host, h.address, h.unit_code, h.name, h.tier, h.roles) for h in (PORTAL, DB, MONITOR, COMMUNE)]
    jobs = targets(members, SimpleNamespace(**defaults.ALL), [])
    assert {job: [t["labels"]["instance"] for t in jobs[job]] for job in ("node", "nginx", "postgres")} == {
        "node": ["portal-1", "db-1", "monitor-1", "xa-1"], "nginx": ["portal-1", "xa-1"], "postgres": ["db-1", "xa-1"]}


def test_a_new_role_is_one_entry_in_the_table(monkeypatch):
    mirror = Role("mirror", "A read-only copy of the portal's catalogue, served by nginx.", services=("nginx",),
                  openings=(PUBLIC_WEB,), stores=("uploads",), exporters=(NGINX,))
    monkeypatch.setitem(ROLES, "mirror", mirror)
    row = parse_units("host,unit_code,name,tier,address,roles\n"
                      f"mirror-1,{PROVINCE},Tỉnh,province,198.18.0.20,mirror\n")[0]
    inv = inventory(PORTAL, MONITOR, row)
    assert inv.get_group("mirror")[0].name == "mirror-1"
    public, rules = firewall_of(inv, "mirror-1")
    assert public == [80, 443] and rules == {"monitor_hosts": ([9100, 9120, 9113], ["198.18.0.12"])}
    with deploying(inv, "mirror-1") as member:
        assert expected_ports(member.data, ["mirror"]) == [22, 80, 443, 9100, 9113, 9120]
        services = agent_config(member.data, ["mirror"], "mirror-1")["collectors"]["services"]
    assert services["services"] == [*EVERY_HOST_SERVICES, "nginx"]
    assert services["stores"] == {"uploads": "/var/lib/dichvucong/uploads"}
    members = [Member("mirror-1", "198.18.0.20", PROVINCE, "Tỉnh", "province", ("mirror",))]
    assert targets(members, SimpleNamespace(**defaults.ALL), [])["nginx"][0]["targets"] == ["198.18.0.20:9113"]


def test_an_unknown_role_is_refused_naming_it():
    with pytest.raises(ValueError, match="unknown role 'webserver'; known roles: portal, db, monitor, backup, onestop"):
        HostRoles.of(["portal", "webserver"])


@pytest.mark.parametrize("entry", [
    dict(deploys=("app",)),                                     # a portal release with no mode
    dict(portal=roles.PROVINCE),                                # a mode with no release
    dict(deploys=("database",), database="everyone"),           # an unknown database mode
    dict(keeps_backup_copies=True),                             # copies with no backups deploy
    dict(stores=("attachments",)),                              # a store nobody knows
])
def test_a_role_whose_parts_contradict_each_other_is_refused(entry):
    with pytest.raises(ValueError):
        Role("x", "a mistake", **entry)


def deploy_calls(source: str) -> list[tuple[str, str]]:
    """(deploy name tested, function called) of each ``if "NAME" in gets: NAME()`` of a deploy file."""
    calls = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Compare) \
                and isinstance(node.test.left, ast.Constant) and isinstance(node.test.ops[0], ast.In):
            called = node.body[0].value.func.id
            calls.append((node.test.left.value, called))
    return calls


def test_site_py_calls_every_deploy_the_table_names_once_each_by_its_own_name():
    calls = deploy_calls((ROOT / "deploy/site.py").read_text())
    named = {name for role in (EVERY_HOST, *ROLES.values()) for name in role.deploys}
    assert [tested for tested, called in calls if tested != called] == []
    assert sorted(tested for tested, _ in calls) == sorted(named), "site.py and the role table disagree"


# Where a role's meaning must come from the table: the deploys, the collectors, and what reads
# the inventory to act on it.
READERS = ["deploy", "monitors/portalops_exporters", "audit", "loadtests", "portalops", "lab", "bench"]
PEER_LOOKUPS = {"addresses_of", "members_of", "get_group"}


def role_names_tested_by_hand(path: Path) -> list[str]:
    """Each place in a Python file that compares with, or looks hosts up by, a role's name."""
    found = []
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        constants = []
        if isinstance(node, ast.Compare):
            for side in (node.left, *node.comparators):
                constants += [n for n in ast.walk(side) if isinstance(n, ast.Constant)]
        elif isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in PEER_LOOKUPS:
            constants += [n for arg in node.args for n in ast.walk(arg) if isinstance(n, ast.Constant)]
        elif isinstance(node, (ast.Tuple, ast.List, ast.Set)) and node.elts and all(
                isinstance(e, ast.Constant) and e.value in ROLES for e in node.elts):
            constants += node.elts
        found += [f"{path.relative_to(ROOT)}:{c.lineno}: {c.value!r}" for c in constants if c.value in ROLES]
    return found


def test_no_deploy_or_collector_tests_a_role_name_by_hand():
    files = [p for folder in READERS for p in sorted((ROOT / folder).rglob("*.py"))
             if "inventories" not in p.parts and "build" not in p.parts]
    assert len(files) > 50
    assert [place for path in files for place in role_names_tested_by_hand(path)] == []


def test_the_scan_finds_a_role_name_tested_by_hand(tmp_path, monkeypatch):
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    code = tmp_path / "deploy.py"
    code.write_text('if "monitor" in roles:\n    pass\naddresses_of("portal")\nWEB = ("portal", "onestop")\n')
    assert role_names_tested_by_hand(code) == ["deploy.py:1: 'monitor'", "deploy.py:3: 'portal'",
                                               "deploy.py:4: 'portal'", "deploy.py:4: 'onestop'"]


def test_no_province_host_runs_opens_or_expects_the_national_service_stand_ins():
    from deploy import defaults
    from inventory.thanhhoa import topology

    for host in topology("2025"):
        roles = HostRoles.of(host.roles)
        assert "standins" not in roles.deploys
        assert not any("standins" in service for service in roles.services(lambda kind: True))
        assert not any("standins" in key for key in roles.ports(lambda kind: True))
    assert not any(key.startswith("standins") for key in defaults.ALL)
