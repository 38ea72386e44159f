"""Benchmark: hardening N fresh lab hosts with pyinfra, then with Ansible, same controls.

For each N (default 1, 10, 30) it takes the lab down and brings up the province's
hosts and N commune-level units of the 2025 topology, all fresh from the base
image, then hardens the N communes with ``pyinfra -y --config deploy/config.py
INVENTORY deploy/harden.py`` twice: the first run converges, the second must change
nothing. It then takes the lab down again, brings up N fresh communes again and
does the same with ``ansible-playbook bench/ansible/harden.yml``, which applies the
same controls from the same templates and defaults. Both tools read the whole lab inventory
(the firewall's allow lists name the province's monitor host) and are limited to
the ``commune`` group.

Each run is timed (wall clock) and its controller CPU is measured: user + system
time of the whole process tree, SSH connection masters included (this process
adopts them as a subreaper and ends them with the run, so no run reuses another's
connections). A run that fails, leaves a host unreached, or (second run) reports a
change stops the benchmark with a non-zero exit and no number for that run; so
does a playbook that has fallen behind the deploy: after Ansible's runs, pyinfra's
dry run on the same hosts must find nothing to change.

Package downloads go through the lab's apt cache, which outlives the lab: only the
first converge ever made on this machine fetches packages from the mirror.

Ansible lives in its own virtual environment, made on first use from
bench/ansible/requirements.txt. Run as root: ``.venv/bin/python bench/deploy.py
[N ...] [--json results.json]``. It replaces any running lab.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

# Run as a script, bench/ is first on the path and would hide the project's packages.
ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)

from pyinfra.api import Inventory  # noqa: E402
from pyinfra.context import ctx_host, ctx_inventory  # noqa: E402

from deploy import defaults  # noqa: E402
from deploy.accounts import FAILLOCK_NOTIFY_PROFILE, FAILLOCK_PROFILE, PWQUALITY_PACKAGES  # noqa: E402
from deploy.facts import SECURITY_UPGRADES  # noqa: E402
from deploy.firewall import allow_rules  # noqa: E402
from deploy.integrity import AIDE_DATABASE, LYNIS_PROFILE, lynis_profile, rkhunter_conf  # noqa: E402
from deploy.intrusion import AUDIT_RULES  # noqa: E402
from deploy.kernel import SYSCTL_FILE  # noqa: E402
from deploy.operations import APT_REFRESH_TRIES, APT_STAMP  # noqa: E402
from deploy.patching import LISTCHANGES, needrestart_conf  # noqa: E402
from deploy.rollout import CONFIG  # noqa: E402
from inventory.groups import group_names, pyinfra_groups  # noqa: E402
from inventory.roles import HostRoles  # noqa: E402
from inventory.thanhhoa import topology  # noqa: E402
from inventory.units import Host  # noqa: E402
from lab import settings  # noqa: E402
from lab.lifecycle import down, lab_data, up  # noqa: E402
from lab.selection import select_hosts  # noqa: E402

PYINFRA = ROOT / ".venv" / "bin" / "pyinfra"
HARDEN = ROOT / "deploy" / "harden.py"
ANSIBLE_DIR = ROOT / "bench" / "ansible"
PLAYBOOK = ANSIBLE_DIR / "harden.yml"
ANSIBLE_VENV = settings.CACHE_DIR / "bench" / "ansible-venv"
# Generated inventories and the output of every run, for a look after a failure.
WORK_DIR = settings.STATE_DIR / "bench"
# The hosts both tools harden; the province's hosts only stand by as firewall peers.
TARGET = ["commune"]
PHASES = ("converge", "no change")
TOOLS = ("pyinfra", "ansible")
PR_SET_CHILD_SUBREAPER = 36


class BenchError(Exception):
    """A run failed or did not behave as the benchmark requires; the message says which and why."""


@dataclass
class Run:
    """One measured run of one tool on N hosts."""

    tool: str
    phase: str
    hosts: int
    wall_seconds: float
    cpu_seconds: float
    changed: int
    log: str


# --- Ansible's side: its virtual environment and an inventory of the lab ---------------------

def ensure_ansible() -> Path:
    """The ansible-playbook of the benchmark's own venv, made from requirements.txt if missing."""
    playbook = ANSIBLE_VENV / "bin" / "ansible-playbook"
    stamp = ANSIBLE_VENV / "requirements.txt"
    wanted = (ANSIBLE_DIR / "requirements.txt").read_text()
    if playbook.exists() and stamp.exists() and stamp.read_text() == wanted:
        return playbook
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(ANSIBLE_VENV)], check=True)
    subprocess.run([str(ANSIBLE_VENV / "bin" / "pip"), "install", "-q", "-r",
                    str(ANSIBLE_DIR / "requirements.txt")], check=True)
    stamp.write_text(wanted)
    return playbook


def ansible_vars(shared: dict) -> dict:
    """The playbook's variables: every deploy default, the lab's data over them, and the
    texts the deploys write verbatim, so the playbook types none of them again."""
    connection = {"ssh_user", "ssh_key", "ssh_known_hosts_file", "ssh_strict_host_key_checking", "_sudo"}
    data = {**defaults.ALL, **{key: value for key, value in shared.items() if key not in connection}}
    return {
        **data,
        "sysctl_file": SYSCTL_FILE,
        "pam_profiles": {"portalops-faillock": FAILLOCK_PROFILE,
                         "portalops-faillock-notify": FAILLOCK_NOTIFY_PROFILE},
        "pwquality_packages": PWQUALITY_PACKAGES,
        "audit_rules": AUDIT_RULES,
        "apt_update_tries": APT_REFRESH_TRIES,
        "apt_update_stamp": APT_STAMP,
        "security_upgrades_command": SECURITY_UPGRADES,
        "listchanges_conf": LISTCHANGES,
        "lynis_profile_file": LYNIS_PROFILE,
        "lynis_profile": lynis_profile(data["lynis_container_skips"]),
        "aide_database": AIDE_DATABASE,
        # Texts that differ in a container: the play picks one by its in_container.
        "needrestart_conf": {where: needrestart_conf(data["needrestart_mode"], where == "container")
                             for where in ("container", "host")},
        "rkhunter_conf": {where: rkhunter_conf(where == "container") for where in ("container", "host")},
    }


def firewall_vars(hosts: list[Host], shared: dict) -> dict[str, dict]:
    """Each host's open ports and allow lists, from deploy/firewall.py's own ``allow_rules``
    run over a pyinfra inventory of the same hosts and data: the playbook renders the same
    nftables template without restating which role opens what to whom."""
    groups = pyinfra_groups(hosts, {**defaults.ALL, **shared})
    inventory = Inventory(groups.pop("all"), **{group: (members, {}) for group, members in groups.items()})
    rules = {}
    with ctx_inventory.use(inventory):
        for member in inventory:
            with ctx_host.use(member):
                public, allow = allow_rules(HostRoles.of(member.data.roles))
            rules[member.name] = {"firewall_public_ports": public, "firewall_allow": allow}
    return rules


def ansible_inventory(hosts: list[Host], shared: dict) -> dict:
    """An Ansible YAML inventory of ``hosts``: the same groups and host data as the pyinfra
    inventory, and the lab's way in (its user and key, its known_hosts checked strictly).

    Becoming root is the play's business (``become: true``, sudo): a connection variable
    here would override the one task that must run as the login user.
    """
    ssh_options = [f"-o UserKnownHostsFile={shared['ssh_known_hosts_file']}",
                   f"-o StrictHostKeyChecking={shared['ssh_strict_host_key_checking']}",
                   "-o IdentitiesOnly=yes"]
    groups = {group: {"hosts": {h.host: None for h in hosts if group in h.roles or group == h.tier}}
              for group in group_names()}
    firewall = firewall_vars(hosts, shared)
    return {"all": {
        "hosts": {h.host: {"ansible_host": h.address, "unit_code": h.unit_code, "unit_name": h.name,
                           "tier": h.tier, "parent_code": h.parent, "unit_roles": list(h.roles),
                           **firewall[h.host]}
                  for h in hosts},
        "vars": {"ansible_user": shared["ssh_user"], "ansible_ssh_private_key_file": shared["ssh_key"],
                 "ansible_ssh_common_args": " ".join(ssh_options)},
        "children": {group: members for group, members in groups.items() if members["hosts"]},
    }}


def write_ansible_inventory(hosts: list[Host], shared: dict, directory: Path) -> Path:
    """Write ``hosts.yml`` and ``group_vars/all.json`` in ``directory``; return the directory.

    YAML is a superset of JSON, so both are written with ``json``.
    """
    (directory / "group_vars").mkdir(parents=True, exist_ok=True)
    for path, content in ((directory / "hosts.yml", ansible_inventory(hosts, shared)),
                          (directory / "group_vars" / "all.json", ansible_vars(shared))):
        path.write_text(json.dumps(content, indent=1, ensure_ascii=False) + "\n")
    return directory


# --- Measuring a run --------------------------------------------------------------------------

def adopt_orphans() -> None:
    """Make this process the subreaper of its descendants, so SSH masters that detach
    (Ansible's ControlPersist) are reparented here and their CPU can be counted."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def reap_orphans(before: set[int], control_dir: Path | None = None, grace: float = 10.0) -> None:
    """Stop every process the run left behind (reparented here) and wait for it, so its CPU
    time joins RUSAGE_CHILDREN; a persistent SSH master must not outlive its run either.

    + before: this process's children before the run (the lab's hosts): left alone
    + control_dir: where the run's SSH masters have their sockets; each is asked to exit
    + grace: seconds a leftover has to exit after SIGTERM, before SIGKILL
    """
    for socket in sorted(control_dir.iterdir()) if control_dir else []:
        subprocess.run(["ssh", "-O", "exit", "-o", f"ControlPath={socket}", "master"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    left = set(_children()) - before
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + grace
        while left and time.monotonic() < deadline:
            left = {pid for pid in left if not _reaped(pid)}
            time.sleep(0.05)


def _reaped(pid: int) -> bool:
    """True once child ``pid`` has exited and been waited for (never blocks)."""
    try:
        return os.waitpid(pid, os.WNOHANG)[0] != 0
    except ChildProcessError:
        return True


def _children() -> list[int]:
    """This process's children, those adopted as subreaper included."""
    me, children = str(os.getpid()), []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError):
            if stat.read_text().rsplit(")", 1)[1].split()[1] == me:
                children.append(int(stat.parent.name))
    return children


def measured(command: list[str], log: Path, env: dict | None = None,
             control_dir: Path | None = None) -> tuple[int, str, float, float]:
    """Run ``command`` from the repository root, output to ``log``; return its exit code,
    output, wall seconds and controller CPU seconds (user + system of the process tree,
    the SSH masters with sockets in ``control_dir`` included)."""
    children = set(_children())
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with open(log, "w") as out:
        code = subprocess.run(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                              env={**os.environ, **(env or {})}).returncode
    wall = time.perf_counter() - started
    reap_orphans(children, control_dir)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return code, log.read_text(errors="replace"), wall, cpu


# --- The two tools, and what their output says ------------------------------------------------

def pyinfra_summary(output: str) -> tuple[int, int, int]:
    """(hosts, changes, errors) from pyinfra's results table: the most hosts any operation
    ran on, and the grand total's success (= changed) and error columns."""
    hosts, total = 0, None
    for line in output.splitlines():
        cells = [cell for cell in re.split(r"\s{2,}|\t", line.strip()) if cell]
        if cells and cells[0] == "Grand total":
            total = cells
        elif len(cells) >= 5 and cells[-4].isdigit():
            hosts = max(hosts, int(cells[-4]))
    if total is None:
        raise BenchError("pyinfra printed no results table")

    def number(cell: str) -> int:
        return 0 if cell == "-" else int(cell)

    return hosts, number(total[-3]), number(total[-2])


def ansible_recap(output: str) -> dict[str, dict[str, int]]:
    """Each host's counts from Ansible's PLAY RECAP: {host: {"ok": .., "changed": .., ...}}."""
    recap = output.rsplit("PLAY RECAP", 1)
    if len(recap) < 2:
        raise BenchError("ansible-playbook printed no PLAY RECAP")
    hosts = {}
    for line in recap[1].splitlines():
        match = re.match(r"^(\S+)\s*:\s*((?:\w+=\d+\s*)+)$", line.strip())
        if match:
            hosts[match[1]] = {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", match[2])}
    return hosts


def run_pyinfra(inventory: Path, limit: list[str], hosts: int, phase: str, log: Path) -> Run:
    """One ``pyinfra -y --config deploy/config.py INVENTORY deploy/harden.py --limit ...`` run
    on the hosts or groups in ``limit``, which must come to ``hosts`` hosts, measured and checked."""
    limits = [option for pattern in limit for option in ("--limit", pattern)]
    code, output, wall, cpu = measured([str(PYINFRA), "-y", "--config", str(CONFIG), str(inventory), str(HARDEN),
                                        *limits], log)
    if code != 0:
        raise BenchError(f"pyinfra {phase} on {hosts} host(s) exited {code}; see {log}")
    reached, changed, errors = pyinfra_summary(output)
    if errors or reached != hosts:
        raise BenchError(f"pyinfra {phase}: {errors} error(s), {reached} of {hosts} host(s) reached; see {log}")
    return Run("pyinfra", phase, hosts, wall, cpu, changed, str(log))


def run_ansible(inventory: Path, limit: list[str], hosts: int, phase: str, log: Path) -> Run:
    """One ``ansible-playbook -i INVENTORY harden.yml --limit ...`` run on the hosts or groups
    in ``limit`` with a fork per host, measured and checked (``hosts`` hosts in the recap, none
    failed or unreachable)."""
    command = [str(ensure_ansible()), "-i", str(inventory), str(PLAYBOOK), "--limit", ",".join(limit),
               "--forks", str(hosts)]
    # A control directory of its own: each run opens its SSH masters and closes them at its end.
    with tempfile.TemporaryDirectory(prefix="ansible-cp-") as control_dir:
        env = {"ANSIBLE_CONFIG": str(ANSIBLE_DIR / "ansible.cfg"), "ANSIBLE_SSH_CONTROL_PATH_DIR": control_dir}
        code, output, wall, cpu = measured(command, log, env, Path(control_dir))
    if code != 0:
        raise BenchError(f"ansible-playbook {phase} on {hosts} host(s) exited {code}; see {log}")
    recap = ansible_recap(output)
    bad = [name for name, counts in recap.items() if counts.get("failed") or counts.get("unreachable")]
    if bad or len(recap) != hosts:
        raise BenchError(f"ansible-playbook {phase}: {len(recap)} of {hosts} host(s) in the recap, "
                         f"failed or unreachable: {', '.join(bad) or 'none'}; see {log}")
    return Run("ansible", phase, hosts, wall, cpu, sum(c.get("changed", 0) for c in recap.values()), str(log))


def progress(run: Run) -> None:
    """One line on stderr per finished run: the benchmark takes minutes."""
    print(f"{run.tool}, {run.hosts} host(s), {run.phase}: {run.wall_seconds:.1f} s wall, "
          f"{run.cpu_seconds:.1f} s CPU, {run.changed} change(s)", file=sys.stderr, flush=True)


def converge_twice(tool: str, inventory: Path, limit: list[str], hosts: int, logs: Path) -> list[Run]:
    """The tool's first run (converge) and second run, which must report no change."""
    run = run_pyinfra if tool == "pyinfra" else run_ansible
    first = run(inventory, limit, hosts, PHASES[0], logs / f"{tool}-{hosts}-converge.log")
    progress(first)
    if first.changed == 0:
        raise BenchError(f"{tool} changed nothing on {hosts} fresh host(s): were they fresh? see {first.log}")
    second = run(inventory, limit, hosts, PHASES[1], logs / f"{tool}-{hosts}-again.log")
    progress(second)
    if second.changed:
        raise BenchError(f"{tool}'s second run on {hosts} host(s) reported {second.changed} change(s); "
                         f"see {second.log}")
    return [first, second]


def check_same_end_state(inventory: Path, limit: list[str], log: Path) -> None:
    """Refuse a playbook that has fallen behind deploy/harden.py: on the hosts Ansible just
    hardened, pyinfra's dry run (not measured) must find no operation with a change to make."""
    limits = [option for pattern in limit for option in ("--limit", pattern)]
    dry = subprocess.run([str(PYINFRA), "--dry", "--json", "--config", str(CONFIG), str(inventory), str(HARDEN),
                          *limits], cwd=ROOT,
                         capture_output=True, text=True, stdin=subprocess.DEVNULL)
    log.write_text(dry.stderr + dry.stdout)
    try:
        plan = json.loads(dry.stdout)["plan"]
    except (ValueError, KeyError):
        raise BenchError(f"pyinfra's dry run exited {dry.returncode} without a plan; see {log}") from None
    behind = [op["name"] for op in plan if op["hosts_with_change"]]
    if dry.returncode != 0 or behind:
        raise BenchError(f"the hosts Ansible hardened are not as deploy/harden.py leaves them: it would still "
                         f"change {'; '.join(behind) or '(exit ' + str(dry.returncode) + ')'}; "
                         f"bench/ansible/harden.yml needs updating; see {log}")


# --- The benchmark ----------------------------------------------------------------------------

def fresh_lab(n: int) -> list[Host]:
    """Take the lab down and bring up the province and ``n`` communes, all fresh."""
    hosts = select_hosts(topology("2025"), districts=0, communes=n)
    down(log=lambda line: None)
    up(hosts, log=lambda line: None)
    return hosts


def inventory_for(tool: str, hosts: list[Host], directory: Path) -> Path:
    """The inventory ``tool`` reads: the lab's own for pyinfra, one written from it for Ansible."""
    if tool == "pyinfra":
        return settings.INVENTORY_FILE
    return write_ansible_inventory(hosts, lab_data(), directory / "ansible-inventory")


def bench(n: int) -> list[Run]:
    """Both tools, each on ``n`` fresh communes, each run twice; then pyinfra's dry run
    checks that Ansible left the hosts as pyinfra would."""
    logs = WORK_DIR / f"n{n}"
    logs.mkdir(parents=True, exist_ok=True)
    runs = []
    for tool in TOOLS:
        hosts = fresh_lab(n)
        runs += converge_twice(tool, inventory_for(tool, hosts, logs), TARGET, n, logs)
    check_same_end_state(settings.INVENTORY_FILE, TARGET, logs / f"pyinfra-{n}-dry-after-ansible.log")
    return runs


def table(runs: list[Run]) -> str:
    """A Markdown table: per N and phase, each tool's wall and CPU seconds and Ansible/pyinfra."""
    lines = ["| hosts | run | pyinfra wall (s) | Ansible wall (s) | wall ratio | pyinfra CPU (s) "
             "| Ansible CPU (s) | CPU ratio |", "|---|---|---|---|---|---|---|---|"]
    by_key = {(r.hosts, r.phase, r.tool): r for r in runs}
    for n in sorted({r.hosts for r in runs}):
        for phase in PHASES:
            p, a = by_key.get((n, phase, "pyinfra")), by_key.get((n, phase, "ansible"))
            if not (p and a):
                continue
            lines.append(f"| {n} | {phase} | {p.wall_seconds:.1f} | {a.wall_seconds:.1f} | "
                         f"{a.wall_seconds / p.wall_seconds:.2f} | {p.cpu_seconds:.1f} | {a.cpu_seconds:.1f} | "
                         f"{a.cpu_seconds / p.cpu_seconds:.2f} |")
    return "\n".join(lines)


def versions() -> dict[str, str]:
    """The two tools' versions, for the JSON record."""
    ansible = subprocess.run([str(ANSIBLE_VENV / "bin" / "ansible-playbook"), "--version"],
                             capture_output=True, text=True, check=True).stdout.split("\n")[0]
    pyinfra = subprocess.run([str(PYINFRA), "--version"], capture_output=True, text=True, check=True).stdout
    return {"ansible": ansible.strip(), "pyinfra": pyinfra.strip()}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark for each size, print the table, write JSON if asked; 1 if a run failed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[1, 10, 30], metavar="N",
                        help="numbers of communes to harden (default: 1 10 30)")
    parser.add_argument("--json", type=Path, help="also write the runs to this JSON file")
    args = parser.parse_args(argv)
    adopt_orphans()
    ensure_ansible()
    runs: list[Run] = []
    failure = None
    try:
        for n in args.sizes:
            runs += bench(n)
    except BenchError as error:
        failure = error
    finally:
        down(log=lambda line: None)
    if runs:
        print(table(runs))
    if args.json:
        args.json.write_text(json.dumps({"versions": versions(), "runs": [asdict(r) for r in runs],
                                         "failed": str(failure) if failure else None}, indent=1) + "\n")
    if failure:
        print(f"benchmark failed: {failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
