"""Which services a host's roles call for, how a process is tied to its systemd unit, and
configurations the services exporter refuses at start-up rather than at every scrape."""

import pytest

from portalops_exporters.services import ServicesCollector
from portalops_exporters.services.catalogue import Service
from portalops_exporters.services.processes import unit_of
from portalops_exporters.services.systemd import parse


def names(collector):
    return [service.name for service in collector.services]


EVERY_HOST = ["sshd", "fail2ban", "node-exporter"]


def test_every_host_watches_ssh_fail2ban_and_node_exporter_and_each_role_adds_its_own():
    assert names(ServicesCollector()) == EVERY_HOST
    assert names(ServicesCollector(roles=["portal"])) == [*EVERY_HOST, "nginx", "dichvucong-web", "dichvucong-outbox"]
    assert names(ServicesCollector(roles=["db"], services=["pgbackrest"])) == [*EVERY_HOST, "postgresql", "pgbackrest"]
    assert names(ServicesCollector(roles=["backup"])) == [*EVERY_HOST, "pgbackrest"]
    assert names(ServicesCollector(roles=["monitor"])) == [*EVERY_HOST, "prometheus", "alertmanager",
                                                           "dichvucong-standins"]


def test_a_onestop_host_watches_its_portal_and_its_own_database_once_each():
    collector = ServicesCollector(roles=["onestop", "portal"])
    assert names(collector) == [*EVERY_HOST, "nginx", "dichvucong-web", "dichvucong-outbox", "postgresql"]
    assert set(collector.stores) == {"uploads", "database", "backup_repository"}


def test_stores_follow_the_roles_and_a_given_one_adds_or_replaces_by_name():
    assert ServicesCollector(roles=["portal"]).stores == {"uploads": "/var/lib/dichvucong/uploads"}
    assert ServicesCollector(roles=["db"], stores={"backup_repository": "/srv/pgbackrest", "wal": "/srv/wal"}
                             ).stores == {"database": "/var/lib/postgresql", "backup_repository": "/srv/pgbackrest",
                                          "wal": "/srv/wal"}


def test_a_vendor_service_is_given_by_its_unit():
    collector = ServicesCollector(services=[{"name": "vendor-portal", "unit": "tomcat9.service"}])
    assert collector.services[-1] == Service("vendor-portal", unit="tomcat9.service")


@pytest.mark.parametrize("options", [
    {"roles": ["webserver"]},
    {"services": ["apache"]},
    {"services": [{"name": "Two Words", "unit": "x.service"}]},
    {"services": [{"name": "x", "unit": "x.service", "process": "x"}]},
    {"services": [{"name": "x"}]},
    {"services": [{"name": "x", "cmdline": "(unclosed"}]},
    {"services": [{"name": "nginx", "process": "nginx"}], "roles": ["portal"]},
    {"stores": {"/var/lib/dichvucong": "/var/lib/dichvucong"}},
    {"expected_backups": {"one": ["db-1"]}},
    {"expected_backups": {"1": ["db 1"]}},
])
def test_a_bad_configuration_is_refused_at_start_up(options):
    with pytest.raises((ValueError, TypeError)):
        ServicesCollector(**options)


@pytest.mark.parametrize("cgroup, unit", [
    ("0::/system.slice/nginx.service\n", "nginx.service"),
    ("0::/system.slice/system-postgresql.slice/postgresql@15-main.service\n", "postgresql@15-main.service"),
    # hybrid layout: v1 controllers first, systemd's own hierarchy and the unified one
    ("4:memory:/system.slice/ssh.service\n1:name=systemd:/system.slice/ssh.service\n0::/\n", "ssh.service"),
    ("0::/system.slice/dichvucong-web.service/payload\n", "dichvucong-web.service"),
    ("0::/user.slice/user-1000.slice/user@1000.service/app.slice/bar.service\n", "user@1000.service"),
    # a login session, a registered container, a group systemd did not make: no service of this host
    ("0::/user.slice/user-0.slice/session-3.scope\n", None),
    ("0::/machine.slice/machine-db\\x2d1.scope/payload/system.slice/ssh.service\n", None),
    ("9:name=systemd:/portalops-lab/db-1/payload/system.slice/ssh.service\n0::/\n", None),
    ("0::/\n", None),
])
def test_a_process_belongs_to_the_outermost_service_unit_under_slices_only(cgroup, unit):
    assert unit_of(cgroup) == unit


def test_systemctl_show_output_is_one_block_per_unit():
    text = "Id=a.service\nActiveState=active\nNRestarts=0\n\nId=b.service\nActiveState=failed\nNRestarts=2\n"
    assert parse(text) == [{"Id": "a.service", "ActiveState": "active", "NRestarts": "0"},
                           {"Id": "b.service", "ActiveState": "failed", "NRestarts": "2"}]
    assert parse("") == []
