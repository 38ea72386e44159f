"""Benchmark: what the exporters cost a one-stop host, against node_exporter on the same host.

All four exporters a one-stop host runs are measured: the portalops exporter, node_exporter,
and Debian's nginx and PostgreSQL exporters; the total is what monitoring costs the host.

On a deployed lab (``make demo``, or any lab after ``portalops deploy``), for one one-stop host:

- CPU share: user + system CPU of the portalops exporter's process and of Debian's
  node_exporter over a window while Prometheus scrapes both every 15 s, divided by the window;
- resident memory (VmRSS) of each at the end of the window;
- /metrics latency: ``--scrapes`` sequential scrapes of each from the monitor host, over TLS
  with the monitor's client certificate, as Prometheus does (curl's time_total; median, p95);
- series per scrape: Prometheus's ``scrape_samples_scraped`` for each job.

Each figure is reported with its ratio to node_exporter's (the peer measured in the same run).
Run as root: ``.venv/bin/python bench/exporters.py [--host xa-...] [--window 300] [--json F]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parents[1])

from lab.lifecycle import lab_hosts  # noqa: E402
from lab.ssh import ssh_command  # noqa: E402
from tests.lab.monitoring import query  # noqa: E402

from deploy import defaults  # noqa: E402
from deploy.standard_exporters import STANDARD_EXPORTERS  # noqa: E402
from inventory.roles import MONITOR_HOSTS, ONESTOP_HOSTS  # noqa: E402

UNITS = {"portalops": "portalops-exporter", "node": "prometheus-node-exporter",
         **{e.exporter.job: e.service for e in STANDARD_EXPORTERS}}
PORTS = {"portalops": defaults.MONITORING["exporter_port"], "node": defaults.MONITORING["node_exporter_port"],
         **{e.exporter.job: defaults.MONITORING[e.exporter.port] for e in STANDARD_EXPORTERS}}
TICKS = 100  # USER_HZ on Debian's kernels


def sh(address: str, script: str, timeout: float = 600) -> str:
    """Run ``script`` as root on a lab host; its output (fails loudly)."""
    result = subprocess.run(ssh_command(address, "sudo sh -s"), input=script, capture_output=True, text=True,
                            timeout=timeout)
    if result.returncode != 0:
        raise SystemExit(f"{address}: {script.splitlines()[0]}: {result.stderr.strip()}")
    return result.stdout


def process_figures(address: str) -> dict[str, tuple[float, int]]:
    """(CPU seconds, VmRSS KiB) of each exporter's main process now."""
    figures = {}
    for job, unit in UNITS.items():
        out = sh(address, f"pid=$(systemctl show -p MainPID --value {unit}); "
                          f"cut -d' ' -f14,15 /proc/$pid/stat; grep VmRSS /proc/$pid/status")
        ticks, rss = out.splitlines()
        figures[job] = (sum(map(int, ticks.split())) / TICKS, int(rss.split()[1]))
    return figures


def scrape_latencies(monitor: str, target: str, scrapes: int) -> dict[str, list[float]]:
    """Seconds per scrape of each exporter on ``target``, from the monitor host, alternating."""
    tls = "--cacert /etc/prometheus/tls/ca.pem --cert /etc/prometheus/tls/cert.pem --key /etc/prometheus/tls/key.pem"
    loop = "; ".join(f"curl -s -o /dev/null -w '{job} %{{time_total}}\\n' {tls} https://{target}:{port}/metrics"
                     for job, port in PORTS.items())
    out = sh(monitor, f"for i in $(seq 1 {scrapes}); do {loop}; done")
    times: dict[str, list[float]] = {job: [] for job in PORTS}
    for line in out.splitlines():
        job, seconds = line.split()
        times[job].append(float(seconds))
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", help="the one-stop host (default: the lab's first)")
    parser.add_argument("--window", type=float, default=300, help="seconds of scraping to measure CPU over")
    parser.add_argument("--scrapes", type=int, default=100, help="scrapes of each exporter for the latency")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    hosts = {h.host: h for h in lab_hosts()}
    onestop = [h for h in hosts.values() if ONESTOP_HOSTS.matches(h.roles)]
    monitors = [h for h in hosts.values() if MONITOR_HOSTS.matches(h.roles)]
    if not onestop or not monitors:
        raise SystemExit("no deployed lab with a one-stop and a monitor host: run make demo first")
    target = hosts[args.host] if args.host else onestop[0]
    monitor = monitors[0]

    before, started = process_figures(target.address), time.monotonic()
    time.sleep(args.window)
    after, window = process_figures(target.address), time.monotonic() - started
    latencies = scrape_latencies(monitor.address, target.address, args.scrapes)
    samples = {r["metric"]["job"]: float(r["value"][1])
               for r in query(f'scrape_samples_scraped{{instance="{target.host}", job=~"{"|".join(UNITS)}"}}')}

    figures = {}
    for job in UNITS:
        times = sorted(latencies[job])
        figures[job] = {
            "cpu_share_percent": 100 * (after[job][0] - before[job][0]) / window,
            "rss_mib": after[job][1] / 1024,
            "metrics_median_ms": 1000 * statistics.median(times),
            "metrics_p95_ms": 1000 * times[int(0.95 * (len(times) - 1))],
            "series": samples.get(job, float("nan")),
        }
    rows = [("CPU share at a 15 s scrape (%)", "cpu_share_percent", "{:.3f}"), ("resident memory (MiB)", "rss_mib", "{:.1f}"),
            ("/metrics median (ms)", "metrics_median_ms", "{:.1f}"), ("/metrics p95 (ms)", "metrics_p95_ms", "{:.1f}"),
            ("series per scrape", "series", "{:.0f}")]
    print(f"{target.host}, window {window:.0f} s, {args.scrapes} scrapes each from {monitor.host}")
    others = [job for job in UNITS if job not in ("portalops", "node")]
    print("| figure | portalops exporter | node_exporter | portalops / node_exporter | "
          + " | ".join(f"{job} exporter" for job in others) + f" | all {len(UNITS)} |")
    print("|---" * (5 + len(others)) + "|")
    for title, key, form in rows:
        ours, peer = figures["portalops"][key], figures["node"][key]
        ratio = ours / peer if peer else float("nan")
        total = "" if "metrics" in key else form.format(sum(figures[job][key] for job in UNITS))
        print(f"| {title} | {form.format(ours)} | {form.format(peer)} | {ratio:.2f} | "
              + " | ".join(form.format(figures[job][key]) for job in others) + f" | {total} |")
    if args.json:
        args.json.write_text(json.dumps({"host": target.host, "window_seconds": window, "figures": figures}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
