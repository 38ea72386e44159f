"""The services the collector knows, how a process is tied to its systemd unit, and
configurations the services exporter refuses at start-up rather than at every scrape.
(Which services and stores a role calls for: tests/unit/test_roles.py.)"""

import pytest

from portalops_exporters.services import ServicesCollector
from portalops_exporters.services.catalogue import Service
from portalops_exporters.services.processes import unit_of
from portalops_exporters.services.systemd import parse


def names(collector):
    return [service.name for service in collector.services]


def test_the_collector_watches_the_services_and_stores_it_is_given_each_once():
    collector = ServicesCollector(services=["sshd", "nginx", "postgresql", "nginx"],
                                  stores={"uploads": "/var/lib/dichvucong/uploads", "wal": "/srv/wal"})
    assert names(collector) == ["sshd", "nginx", "postgresql"]
    assert collector.services[2].unit == "postgresql@*-main.service"
    assert collector.stores == {"uploads": "/var/lib/dichvucong/uploads", "wal": "/srv/wal"}


def test_with_nothing_given_the_collector_watches_nothing():
    collector = ServicesCollector()
    assert names(collector) == [] and collector.stores == {}


def test_a_vendor_service_is_given_by_its_unit():
    collector = ServicesCollector(services=[{"name": "vendor-portal", "unit": "tomcat9.service"}])
    assert collector.services[-1] == Service("vendor-portal", unit="tomcat9.service")


@pytest.mark.parametrize("options", [
    {"roles": ["portal"]},
    {"services": ["apache"]},
    {"services": [{"name": "Two Words", "unit": "x.service"}]},
    {"services": [{"name": "x", "unit": "x.service", "process": "x"}]},
    {"services": [{"name": "x"}]},
    {"services": [{"name": "x", "cmdline": "(unclosed"}]},
    {"services": ["nginx", {"name": "nginx", "process": "nginx"}]},
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
