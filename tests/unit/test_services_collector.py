"""The services exporter against real processes started here, a real directory for store space,
and, since this machine has no systemd, a stand-in ``systemctl`` for restarts and unit states."""

import json
import math
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
import uuid

import psutil
import pytest

from portalops_exporters.exporter import Scraped
from portalops_exporters.services import NAME, ServicesCollector

# A stand-in service process: holds N extra files, M bytes of memory and maybe a TCP
# connection, forks if asked (both halves share the connection), burns a little CPU,
# says "ready" and lives until its stdin closes.
SERVICE = textwrap.dedent("""
    import os, socket, sys, time
    files, memory, port, fork = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "fork"
    held = [open(os.devnull) for _ in range(files)]
    ballast = bytearray(b"x" * memory)
    connection = socket.create_connection(("127.0.0.1", port)) if port else None
    end = time.process_time() + float(sys.argv[5])
    while time.process_time() < end:
        pass
    if fork and os.fork() == 0:
        sys.stdin.read()  # the forked half lives as long as the parent
        os._exit(0)
    print("ready", flush=True)
    sys.stdin.read()
""")


def start(marker: str, files=0, memory=0, port=0, fork=False, cpu=0.0, executable=sys.executable):
    process = subprocess.Popen([executable, "-c", SERVICE, str(files), str(memory), str(port),
                                "fork" if fork else "single", str(cpu), marker],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "ready"
    return process


@pytest.fixture
def services():
    """Start stand-in services; stop them (and their forks) afterwards."""
    started = []

    def run(**options):
        marker = f"portalops-test-{uuid.uuid4().hex}"
        started.append(start(marker, **options))
        return marker, started[-1]

    yield run
    for process in started:
        process.stdin.close()
        process.wait(timeout=10)


def samples(collector) -> dict:
    """{(metric sample name, sorted labels): value} of one scrape."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in collector.collect() for s in family.samples}


def by_cmdline(name, marker):
    return {"name": name, "cmdline": f" {marker}$"}


def test_a_running_service_is_found_by_its_command_line_with_its_start_and_memory(services):
    marker, process = services(memory=40_000_000)
    found = samples(ServicesCollector(services=[by_cmdline("worker", marker)], stores={}))
    service = (("service", "worker"),)
    assert found[("portalops_services_running", service)] == 1
    assert found[("portalops_services_processes", service)] == 1
    assert found[("portalops_services_start_time_seconds", service)] == psutil.Process(process.pid).create_time()
    assert found[("portalops_services_resident_memory_bytes", service)] >= 40_000_000


def test_a_service_without_processes_is_down_with_no_start_time(services):
    found = samples(ServicesCollector(services=[by_cmdline("ghost", f"portalops-test-{uuid.uuid4().hex}")], stores={}))
    assert found[("portalops_services_running", (("service", "ghost"),))] == 0
    assert found[("portalops_services_processes", (("service", "ghost"),))] == 0
    assert not any(name == "portalops_services_start_time_seconds" for name, _ in found)


def test_a_service_is_found_by_its_process_name(services, tmp_path):
    name = f"pot{uuid.uuid4().hex[:8]}"  # the kernel names a process after the file it ran
    (tmp_path / name).symlink_to(sys.executable)
    marker = f"portalops-test-{uuid.uuid4().hex}"
    process = start(marker, executable=str(tmp_path / name))
    try:
        found = samples(ServicesCollector(services=[{"name": "named", "process": name}], stores={}))
        assert found[("portalops_services_processes", (("service", "named"),))] == 1
    finally:
        process.stdin.close()
        process.wait(timeout=10)


def test_cpu_time_is_counted_by_mode(services):
    marker, _ = services(cpu=0.2)
    found = samples(ServicesCollector(services=[by_cmdline("busy", marker)], stores={}))
    user = found[("portalops_services_cpu_seconds_total", (("mode", "user"), ("service", "busy")))]
    system = found[("portalops_services_cpu_seconds_total", (("mode", "system"), ("service", "busy")))]
    assert user + system >= 0.2


def test_open_files_count_every_descriptor_the_service_holds(services):
    quiet, _ = services(files=0)
    busy, _ = services(files=12)
    found = samples(ServicesCollector(services=[by_cmdline("quiet", quiet), by_cmdline("busy", busy)], stores={}))
    fds = {labels[0][1]: value for (name, labels), value in found.items() if name == "portalops_services_open_fds"}
    assert fds["busy"] - fds["quiet"] == 12


def test_an_established_connection_shared_by_two_processes_counts_once(services):
    with socket.create_server(("127.0.0.1", 0)) as listener:
        marker, _ = services(port=listener.getsockname()[1], fork=True)
        accepted, _ = listener.accept()
        with accepted:
            found = samples(ServicesCollector(services=[by_cmdline("client", marker)], stores={}))
    assert found[("portalops_services_processes", (("service", "client"),))] == 2
    assert found[("portalops_services_connections", (("service", "client"),))] == 1


# The collector as an unprivileged user holding only the given capabilities, as on a host.
AS_EXPORTER = textwrap.dedent("""
    import json, sys
    from portalops_exporters.services import ServicesCollector
    collector = ServicesCollector(services=[{"name": "probe", "cmdline": sys.argv[1]}], stores={},
                                  systemctl=["true"])
    probe = [s.name for f in collector.collect() for s in f.samples if s.labels.get("service") == "probe"]
    print(json.dumps(probe))
""")


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"),
                    reason="needs root to start a process the exporter's user does not own, and setpriv")
@pytest.mark.parametrize("capabilities, readable", [
    ("", set()),
    ("+dac_read_search", {"portalops_services_open_fds"}),
    ("+dac_read_search,+sys_ptrace", {"portalops_services_open_fds", "portalops_services_connections"}),
])
def test_what_another_user_s_processes_show_depends_on_the_capabilities_and_is_absent_not_zero(
        services, capabilities, readable):
    marker, _ = services(files=2)
    grant = [f"--inh-caps={capabilities}", f"--ambient-caps={capabilities}"] if capabilities else []
    result = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *grant,
                             sys.executable, "-c", AS_EXPORTER, f" {marker}$"], capture_output=True, text=True,
                            check=True)
    names = set(json.loads(result.stdout))
    assert "portalops_services_processes" in names
    assert names & {"portalops_services_open_fds", "portalops_services_connections"} == readable


def fake_systemctl(tmp_path, output: str, status: int = 0):
    """A ``systemctl`` that answers ``show`` with ``output`` and records its arguments."""
    script = tmp_path / "systemctl"
    (tmp_path / "show.out").write_text(output)
    script.write_text(f'#!/bin/sh\necho "$@" > {tmp_path}/args\ncat {tmp_path}/show.out\nexit {status}\n')
    script.chmod(0o755)
    return [str(script)]


SHOW = """Id=nginx.service
ActiveState=active
NRestarts=0

Id=postgresql@15-main.service
ActiveState=failed
NRestarts=3
"""


def test_restarts_and_unit_states_come_from_systemctl_show_and_globs_find_their_units(tmp_path):
    collector = ServicesCollector(services=["nginx", "postgresql"], stores={},
                                  systemctl=fake_systemctl(tmp_path, SHOW))
    found = samples(collector)
    assert found[("portalops_services_restarts_total", (("service", "postgresql"),))] == 3
    assert found[("portalops_services_restarts_total", (("service", "nginx"),))] == 0
    assert found[("portalops_services_unit_state", (("service", "postgresql"), ("state", "failed")))] == 1
    assert found[("portalops_services_unit_state", (("service", "postgresql"), ("state", "active")))] == 0
    assert found[("portalops_services_unit_state", (("service", "nginx"), ("state", "active")))] == 1
    asked = (tmp_path / "args").read_text().split()
    assert asked[:2] == ["show", "--property=Id,ActiveState,NRestarts"]
    assert {"nginx.service", "postgresql@*-main.service"} <= set(asked)


def test_without_systemd_the_processes_are_still_reported(services, tmp_path):
    marker, _ = services()
    collector = ServicesCollector(services=["nginx", by_cmdline("worker", marker)], stores={},
                                  systemctl=fake_systemctl(tmp_path, "", status=1))
    found = dict(samples(collector))
    assert found[("portalops_services_processes", (("service", "worker"),))] == 1
    assert not any(name.startswith("portalops_services_restarts") for name, _ in found)
    up = {s.name: s.value for f in Scraped(NAME, collector).collect() for s in f.samples}
    assert up["portalops_services_up"] == 1


def test_store_space_is_the_file_system_s_size_and_what_users_may_still_write(tmp_path):
    found = samples(ServicesCollector(stores={"uploads": str(tmp_path)}))
    stat = os.statvfs(tmp_path)
    assert found[("portalops_services_store_size_bytes", (("store", "uploads"),))] == stat.f_blocks * stat.f_frsize
    avail = found[("portalops_services_store_avail_bytes", (("store", "uploads"),))]
    assert abs(avail - stat.f_bavail * stat.f_frsize) < 256 * 2**20  # others write on this disk meanwhile


def test_a_missing_store_is_left_out_and_the_others_still_reported(tmp_path):
    found = samples(ServicesCollector(stores={"uploads": str(tmp_path), "backup_repository": str(tmp_path / "no")}))
    stores = {labels for name, labels in found if name == "portalops_services_store_size_bytes"}
    assert stores == {(("store", "uploads"),)}


def test_backup_stamps_give_the_last_success_and_its_age_and_an_expected_stanza_without_one_is_infinitely_old(
        tmp_path):
    (tmp_path / "repo1").mkdir()
    (tmp_path / "repo1" / "db-1").write_text(f"{int(time.time()) - 3600}\n")
    (tmp_path / "repo1" / ".db-1.new").write_text("half a stamp")  # being written: not a stanza
    (tmp_path / "repo2").mkdir()
    (tmp_path / "repo2" / "onestop-17").write_text("1795700000\n")
    (tmp_path / "lost+found").mkdir()
    found = samples(ServicesCollector(stores={}, backup_stamps=str(tmp_path), expected_backups={"1": ["db-1", "db-2"]}))
    last = {labels: v for (name, labels), v in found.items()
            if name == "portalops_services_backup_last_success_timestamp_seconds"}
    age = {labels: v for (name, labels), v in found.items() if name == "portalops_services_backup_age_seconds"}
    assert last == {(("repo", "1"), ("stanza", "db-1")): pytest.approx(time.time() - 3600, abs=5),
                    (("repo", "1"), ("stanza", "db-2")): 0,
                    (("repo", "2"), ("stanza", "onestop-17")): 1795700000}
    assert age[(("repo", "1"), ("stanza", "db-1"))] == pytest.approx(3600, abs=5)
    assert math.isinf(age[(("repo", "1"), ("stanza", "db-2"))])
