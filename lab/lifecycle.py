"""Bring the lab up, report on it, take it down.

``up`` converges: hosts already running with the right address are kept, missing
ones are created and booted, hosts the new selection no longer names are
removed. ``down`` leaves no process, mount, link or bridge behind; the cached
base image and packages stay for the next lab (``down --purge`` removes them too).
"""

from __future__ import annotations

import contextlib
import fcntl
import shutil
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from inventory.pyinfra_file import write_inventory_file
from inventory.units import Host, format_units, load_units
from lab import LabError, apt_cache, cgroups, kernel_limits, network, settings
from lab.host import LabHost, NSPAWN, mounted_paths
from lab.image import ensure_image
from lab.national import national_host, province_data, write_national_inventory
from lab.prerequisites import require_all
from lab.process import run, terminate
from lab.selection import check_addresses
from lab.ssh import answers, ensure_operator_key, write_known_hosts, write_ssh_config


@dataclass
class UpReport:
    """What ``up`` did, host names in each list."""

    kept: list[str]
    started: list[str]
    removed: list[str]


@dataclass
class HostStatus:
    """One host's line in ``lab status``."""

    host: Host
    running: bool
    ssh: bool


@contextlib.contextmanager
def _locked():
    """Hold the lab's lock so two commands never change the lab at once."""
    settings.STATE_DIR.mkdir(parents=True, exist_ok=True)
    settings.STATE_DIR.chmod(0o700)
    with open(settings.LOCK_FILE, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LabError("another `portalops lab` command is changing the lab; wait for it") from None
        yield


def _present_hosts() -> list[str]:
    """Names of hosts that have a directory in the state directory."""
    if not settings.HOSTS_DIR.exists():
        return []
    return sorted(p.name for p in settings.HOSTS_DIR.iterdir() if p.is_dir())


def _stray_nspawn_pids() -> dict[int, str]:
    """nspawn processes on the lab bridge, whether or not a pid file records them."""
    pids = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        args = [a.decode(errors="replace") for a in cmdline]
        if args and args[0].endswith(NSPAWN) and f"--network-bridge={settings.BRIDGE}" in args:
            pids[int(proc.name)] = NSPAWN
    return pids


def _stop(names: list[str]) -> None:
    """Power off the named hosts together, then unmount and delete their disks."""
    lab_hosts = [_lab_host_by_name(name) for name in names]
    terminate({h.pid: f"--machine={h.name}" for h in lab_hosts if h.running()},
              timeout=settings.STOP_TIMEOUT_SECONDS)
    for lab_host in lab_hosts:
        lab_host.remove()


def _lab_host_by_name(name: str) -> LabHost:
    """A LabHost for a host directory whose units row may no longer be known."""
    address = (settings.HOSTS_DIR / name / "address")
    placeholder = Host(name, "000.00.00.H56", name, "province", "",
                       address.read_text().strip() if address.exists() else "0.0.0.0", ())
    return LabHost(placeholder)


def _port_open(address: str, port: int = 22) -> bool:
    try:
        with socket.create_connection((address, port), timeout=1):
            return True
    except OSError:
        return False


def _wait_for_ssh(lab_hosts: list[LabHost]) -> None:
    """Wait until every host answers over SSH; name the ones that never did."""
    deadline = time.monotonic() + settings.BOOT_TIMEOUT_SECONDS

    def wait(lab_host: LabHost) -> bool:
        while time.monotonic() < deadline:
            if not lab_host.running():
                return False
            if _port_open(lab_host.host.address) and answers(lab_host.host.address):
                return True
            time.sleep(0.5)
        return False

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(wait, lab_hosts))
    failed = [h for h, ok in zip(lab_hosts, results) if not ok]
    if failed:
        details = "\n".join(f"  {h.name} ({h.host.address}): "
                            f"{'running' if h.running() else 'not running'}; console:\n"
                            f"    {h.console_tail().replace(chr(10), chr(10) + '    ')}" for h in failed)
        raise LabError(f"{len(failed)} host(s) did not answer over SSH within "
                       f"{settings.BOOT_TIMEOUT_SECONDS} s:\n{details}")


def up(hosts: list[Host], log=print) -> UpReport:
    """Converge the lab on ``hosts``: boot what is missing, keep what runs, remove the rest.

    + hosts: rows of a units table, all with addresses in the lab network
    + log: where progress lines go

    Example: ``up(select_hosts(topology("2025"), 0, 5))``
    """
    require_all()
    check_addresses(hosts)
    province = hosts
    taken = [h.host for h in province if settings.NATIONAL_ADDRESS == h.address or settings.NATIONAL_HOST == h.host]
    if taken:
        raise LabError(f"{', '.join(taken)}: the lab keeps {settings.NATIONAL_HOST} ({settings.NATIONAL_ADDRESS}) for "
                       "its national-service stand-ins; give the units table's host another name and address")
    hosts = [*province, national_host()]  # the machines: the province's, and the national stand-ins'
    with _locked():
        changed = kernel_limits.raise_limits()
        if changed:
            log("raised controller limits for the lab: " + ", ".join(f"{k}={v}" for k, v in changed.items()))
        network.ensure_bridge()
        apt_cache.ensure_running()
        image = ensure_image(log)
        key = ensure_operator_key()
        wanted = {h.host: LabHost(h) for h in hosts}
        present = _present_hosts()
        stale = [
            name for name in present
            if name not in wanted or not wanted[name].running()
            or wanted[name].booted_address() != wanted[name].host.address
        ]
        removed = [name for name in stale if name not in wanted]
        if stale:
            log(f"removing {len(stale)} host(s) not wanted as they are: {', '.join(stale)}")
            _stop(stale)
        to_boot = [h for h in wanted.values() if not h.running()]
        kept = [h.name for h in wanted.values() if h.running()]
        for lab_host in wanted.values():
            if lab_host in to_boot:
                lab_host.create(image, key, hosts)
            else:
                lab_host.write_hosts_file(hosts)
        write_known_hosts((h.name, h.host.address, h.host_key()) for h in wanted.values())
        write_ssh_config((h.host, h.address) for h in hosts)
        if to_boot:
            log(f"booting {len(to_boot)} host(s): {', '.join(h.name for h in to_boot)}")
        for lab_host in to_boot:
            lab_host.boot()
        _wait_for_ssh(list(wanted.values()))
        settings.UNITS_FILE.write_text(format_units(province))
        write_inventory_file(settings.UNITS_FILE, settings.INVENTORY_FILE, lab_data())
        write_national_inventory(connection())
        province_names = {h.host for h in province}  # the report counts the province's hosts
        return UpReport(kept=[name for name in kept if name in province_names],
                        started=[h.name for h in to_boot if h.name in province_names], removed=removed)


def connection() -> dict:
    """How pyinfra reaches a lab host: the operator's key, strict host keys, sudo, the apt cache."""
    return {
        "ssh_user": settings.SSH_USER,
        "ssh_key": str(settings.OPERATOR_KEY),
        "ssh_known_hosts_file": str(settings.KNOWN_HOSTS),
        "ssh_strict_host_key_checking": "yes",
        "_sudo": True,
        "apt_proxy": apt_cache.proxy_url(),
    }


def lab_data() -> dict:
    """What every host of the lab's province shares in the inventory: how pyinfra reaches it,
    the data the deploys need to keep that access (admins with the operator's key, the admin
    network), and the lab-only parts: the apt cache, the national services' stand-ins and the
    load test's source addresses."""
    return {
        **connection(),
        "admins": [{"name": settings.SSH_USER,
                    "keys": [Path(f"{settings.OPERATOR_KEY}.pub").read_text().strip()]}],
        "admin_networks": [f"{settings.CONTROLLER_ADDRESS}/32"],
        "loadtest_sources": str(settings.LOAD_SOURCES),
        **province_data(),
    }


def lab_hosts() -> list[Host]:
    """The hosts of the lab as last brought up (empty if there is no lab)."""
    if not settings.UNITS_FILE.exists():
        return []
    return load_units(settings.UNITS_FILE)


def status() -> list[HostStatus]:
    """Each lab host, whether it runs and whether SSH answers (checked in parallel)."""
    hosts = lab_hosts()
    if hosts and LabHost(national_host()).directory.exists():
        hosts.append(national_host())

    def check(host: Host) -> HostStatus:
        running = LabHost(host).running()
        return HostStatus(host, running, running and answers(host.address))

    with ThreadPoolExecutor(max_workers=16) as pool:
        return list(pool.map(check, hosts))


def leftovers() -> list[str]:
    """Anything of a lab still on the machine: processes, mounts, links, bridge, firewall."""
    found = [f"nspawn process {pid}" for pid in _stray_nspawn_pids()]
    found += [f"mount {m}" for m in sorted(mounted_paths()) if m.startswith(str(settings.HOSTS_DIR))]
    found += [f"host directory {name}" for name in _present_hosts()]
    if network.bridge_exists():
        found.append(f"bridge {settings.BRIDGE}")
    found += [f"link {link}" for link in network.host_links()]
    if network.nft_table_exists():
        found.append(f"nftables table {network.NFT_TABLE}")
    found += [f"cgroup {path}" for path in cgroups.lab_cgroups() if path.exists()]
    if apt_cache.running():
        found.append("apt-cacher-ng process")
    return found


def down(purge: bool = False, log=print) -> None:
    """Remove every host, the cache process, the bridge and the lab inventory.

    + purge: also delete the cached base image, packages and the operator key
    """
    require_all()
    with _locked():
        present = _present_hosts()
        if present:
            log(f"stopping {len(present)} host(s)")
        _stop(present)
        stray = _stray_nspawn_pids()
        if stray:
            terminate(stray, timeout=settings.STOP_TIMEOUT_SECONDS)
        for mount in sorted(mounted_paths(), reverse=True):
            if mount.startswith(str(settings.HOSTS_DIR)):
                run("umount", "--lazy", mount)
        shutil.rmtree(settings.HOSTS_DIR, ignore_errors=True)
        cgroups.remove_lab_root()
        apt_cache.stop()
        network.remove_host_links()
        network.remove_bridge()
        kernel_limits.restore_limits()
        for path in (settings.UNITS_FILE, settings.INVENTORY_FILE, settings.NATIONAL_INVENTORY_FILE, settings.KNOWN_HOSTS,
                     settings.SSH_CONFIG):
            path.unlink(missing_ok=True)
        if purge:
            shutil.rmtree(settings.CACHE_DIR, ignore_errors=True)
            shutil.rmtree(settings.SSH_DIR, ignore_errors=True)
    remaining = leftovers()
    if remaining:
        raise LabError("the lab is not fully down; still present: " + ", ".join(remaining))
