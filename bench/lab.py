"""Benchmark: bringing up N lab hosts from the cached base image, and memory per host.

For N = 3, 10, 30 (the province's 3 hosts plus N-3 commune-level units of the 2025
topology) it takes the lab down, times ``up`` until every host answers over SSH,
then measures each host's memory as the summed PSS of the processes in its
cgroup. Times are reported per host and as a ratio to the N = 3 run in the same
process, since this machine is noisy. Run as root: ``make bench`` or
``.venv/bin/python bench/lab.py [N ...]``.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

# Run as a script, bench/ is first on the path and this file would shadow the lab package.
sys.path[0] = str(Path(__file__).resolve().parents[1])

from inventory.thanhhoa import topology
from lab import cgroups
from lab.lifecycle import down, up
from lab.selection import select_hosts


def pss_kib(pid: str) -> int:
    """Proportional set size of one process, KiB (0 if it has gone)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def host_memory_mib(name: str) -> float:
    """Summed PSS of every process in the host's cgroup tree, MiB."""
    top = cgroups.host_cgroups(name)[0]
    pids = {pid for procs in top.rglob("cgroup.procs") for pid in procs.read_text().split()}
    return sum(pss_kib(pid) for pid in pids) / 1024


def bench(n: int) -> dict:
    """Bring up ``n`` hosts on an empty lab; return timings and memory."""
    hosts = select_hosts(topology("2025"), districts=0, communes=n - 3)
    down(log=lambda line: None)
    started = time.perf_counter()
    up(hosts, log=lambda line: None)
    cold = time.perf_counter() - started
    started = time.perf_counter()
    up(hosts, log=lambda line: None)
    again = time.perf_counter() - started
    time.sleep(5)  # let boot-time jobs finish before measuring memory
    memory = [host_memory_mib(h.host) for h in hosts]
    return {"n": n, "up": cold, "again": again, "per_host": cold / n,
            "mem_median": statistics.median(memory), "mem_max": max(memory)}


def main(sizes: list[int]) -> None:
    """Run the benchmark for each size and print a Markdown table."""
    results = [bench(n) for n in sizes]
    down(log=lambda line: None)
    base = results[0]["per_host"]
    print(f"| hosts | up (s) | per host (s) | per host vs N={sizes[0]} | up again, no change (s) "
          "| memory per host, median (MiB PSS) | max (MiB) |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['n']} | {r['up']:.1f} | {r['per_host']:.2f} | {r['per_host'] / base:.2f} | "
              f"{r['again']:.1f} | {r['mem_median']:.1f} | {r['mem_max']:.1f} |")


if __name__ == "__main__":
    main([int(n) for n in sys.argv[1:]] or [3, 10, 30])
