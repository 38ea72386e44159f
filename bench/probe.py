"""Benchmark: the portalops probe exporter against Debian's blackbox_exporter, same targets, same run.

Targets are Debian's nginx on two loopback ports serving a static page, over HTTP and
over HTTPS with a certificate of a throwaway CA (the lab's private-CA case). Both
exporters read one module file (the probe's configuration keys are blackbox's):
``http_2xx``, ``https_portal`` (TLS checked against the CA), ``tcp_connect`` and
``tls_expiry``. Each exporter runs as its own process on a loopback port of its own
(blackbox_exporter with its own config file, never Debian's service on :9115).

For each module the same number of probes goes to each exporter, alternately and in the
same seconds (``--concurrency`` in flight at each), so a change in the machine's load hits
both alike; each carries ``X-Prometheus-Scrape-Timeout-Seconds: 10`` as Prometheus's
would. Measured:

- probes per CPU-second: probes answered / (user + system CPU of the exporter's process
  over the batch, from /proc via psutil); the target's and this driver's CPU are not counted;
- agreement: the median ``probe_duration_seconds`` and median phase times
  (``probe_http_duration_seconds{phase}``) of both, and their ratio (portalops / blackbox).

Every probe must succeed; a failure stops the benchmark with exit 1. All traffic stays on
127.0.0.1; every loop is bounded by a count and by ``--max-seconds`` per batch.

Run: ``.venv/bin/python bench/probe.py [--probes 400] [--concurrency 8] [--json results.json]``
(needs ``apt-get install prometheus-blackbox-exporter nginx-light``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlencode

# Run as a script, bench/ is first on the path and would hide the project's packages.
ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)

import psutil  # noqa: E402

from tests.probe_servers import LOOPBACK, Ca, fetch, samples  # noqa: E402
from portalops_exporters.probe.transfer import PHASES  # noqa: E402

BLACKBOX = "/usr/bin/prometheus-blackbox-exporter"
NGINX = "/usr/sbin/nginx"
SCRAPE_TIMEOUT = "10"
# A page the size of the portal's catalogue front page without its assets (estimate).
PAGE = ("<!doctype html><title>Cổng Dịch vụ công tỉnh Thanh Hóa</title>\n" + "<p>thủ tục hành chính</p>\n" * 600)
EXPORTERS = ("portalops", "blackbox")
# How our exporter is served: exactly as the CLI will (server.routes + server.serve).
SERVE = """
import json, sys, threading
from prometheus_client import CollectorRegistry
from portalops_exporters.exporter import Scraped
from portalops_exporters.probe import make_app
from portalops_exporters.server import routes, serve
exporter = make_app(json.load(open(sys.argv[1])))
registry = CollectorRegistry()
registry.register(Scraped("portalops_probe", exporter))
serve(routes(registry, extra={"/probe": exporter}), "127.0.0.1", int(sys.argv[2]))
threading.Event().wait()
"""


class BenchError(Exception):
    """The benchmark cannot give a fair number (a probe failed, a service did not start)."""


@dataclass
class Batch:
    """One exporter's batch of probes of one module."""

    exporter: str
    module: str
    probes: int
    cpu_seconds: float
    wall_seconds: float
    durations: list[float] = field(default_factory=list)
    phases: dict[str, list[float]] = field(default_factory=dict)

    @property
    def per_cpu_second(self) -> float:
        """Probes answered per CPU-second of the exporter."""
        return self.probes / self.cpu_seconds if self.cpu_seconds else float("inf")


def free_port() -> int:
    """A loopback port nothing listens on now."""
    import socket

    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, seconds: float = 20) -> None:
    """Until ``url`` answers (any status); BenchError if the process dies or time runs out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"{process.args[0]} exited with {process.returncode}")
        try:
            fetch(url, timeout=2)
            return
        except OSError:
            time.sleep(0.1)
    raise BenchError(f"{url} did not answer within {seconds:.0f} s")


def nginx_conf(directory: Path, http_port: int, https_port: int, cert: Path, key: Path) -> Path:
    """nginx on two loopback ports serving ``www/``, everything it writes inside ``directory``."""
    (directory / "www").mkdir()
    (directory / "www" / "index.html").write_text(PAGE)
    temp = "".join(f"{kind}_temp_path {directory}/{kind};\n" for kind in
                   ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf = directory / "nginx.conf"
    conf.write_text(f"""
daemon off;
worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  {temp}
  server {{ listen {LOOPBACK}:{http_port}; root {directory}/www; }}
  server {{ listen {LOOPBACK}:{https_port} ssl; root {directory}/www;
           ssl_certificate {cert}; ssl_certificate_key {key}; ssl_protocols TLSv1.2 TLSv1.3; }}
}}
""")
    return conf


def modules(ca_file: Path) -> dict:
    """The module file both exporters read (blackbox's keys; JSON is YAML for blackbox)."""
    tls = {"ca_file": str(ca_file)}
    return {"modules": {
        "http_2xx": {"prober": "http", "timeout": "5s", "http": {"preferred_ip_protocol": "ip4"}},
        "https_portal": {"prober": "http", "timeout": "5s",
                         "http": {"preferred_ip_protocol": "ip4", "fail_if_not_ssl": True, "tls_config": tls}},
        "tcp_connect": {"prober": "tcp", "timeout": "5s", "tcp": {"preferred_ip_protocol": "ip4"}},
        "tls_expiry": {"prober": "tcp", "timeout": "5s",
                       "tcp": {"preferred_ip_protocol": "ip4", "tls": True, "tls_config": tls}},
    }}


def one_probe(base: str, module: str, target: str) -> dict[str, float]:
    status, text = fetch(f"{base}/probe?{urlencode({'module': module, 'target': target})}",
                         {"X-Prometheus-Scrape-Timeout-Seconds": SCRAPE_TIMEOUT}, timeout=15)
    found = samples(text) if status == 200 else {}
    if found.get("probe_success") != 1:
        raise BenchError(f"{base} {module} {target}: status {status}:\n{text}")
    return found


def window(bases: dict[str, tuple[str, int]], module: str, target: str, probes: int, concurrency: int,
           max_seconds: float) -> dict[str, Batch]:
    """``probes`` probes to each exporter, sent alternately by one pool of ``2 × concurrency`` workers, so both
    run through the same seconds of the machine's load; stops early after ``max_seconds``."""
    processes = {name: psutil.Process(pid) for name, (_, pid) in bases.items()}
    deadline = time.monotonic() + max_seconds
    answers: dict[str, list[dict[str, float]]] = {name: [] for name in bases}
    lock = threading.Lock()

    def work(index: int) -> None:
        if time.monotonic() > deadline:
            return
        name = EXPORTERS[index % len(EXPORTERS)]
        found = one_probe(bases[name][0], module, target)
        with lock:
            answers[name].append(found)

    before, started = {n: p.cpu_times() for n, p in processes.items()}, time.monotonic()
    with ThreadPoolExecutor(concurrency * len(bases)) as pool:
        list(pool.map(work, range(probes * len(bases))))
    after, wall = {n: p.cpu_times() for n, p in processes.items()}, time.monotonic() - started
    batches = {}
    for name, found in answers.items():
        cpu = (after[name].user - before[name].user) + (after[name].system - before[name].system)
        batches[name] = result = Batch(name, module, len(found), cpu, wall, [a["probe_duration_seconds"] for a in found])
        for phase in PHASES:
            key = f'probe_http_duration_seconds{{phase="{phase}"}}'
            if found and key in found[0]:
                result.phases[phase] = [a[key] for a in found]
    return batches


def table(results: dict[str, dict[str, Batch]]) -> str:
    """A Markdown table: per module, probes per CPU-second of each, and the medians' agreement."""
    lines = ["| module | portalops probes/CPU-s | blackbox probes/CPU-s | median probe_duration ms "
             "(portalops / blackbox) | ratio | median phases ms, portalops / blackbox |",
             "|---|---|---|---|---|---|"]
    for module, pair in results.items():
        ours, theirs = pair["portalops"], pair["blackbox"]
        a, b = statistics.median(ours.durations), statistics.median(theirs.durations)
        phases = ", ".join(f"{p} {statistics.median(ours.phases[p]) * 1000:.2f} / "
                           f"{statistics.median(theirs.phases[p]) * 1000:.2f}"
                           for p in ours.phases if p in theirs.phases) or "(no phases: tcp prober)"
        lines.append(f"| {module} | {ours.per_cpu_second:.0f} | {theirs.per_cpu_second:.0f} | "
                     f"{a * 1000:.2f} / {b * 1000:.2f} | {a / b:.2f} | {phases} |")
    return "\n".join(lines)


def versions() -> dict[str, str]:
    """The versions compared, for the JSON record."""
    import pycurl

    answer = subprocess.run([BLACKBOX, "--version"], capture_output=True, text=True)
    blackbox = (answer.stdout or answer.stderr).split("\n")[0]
    nginx = subprocess.run([NGINX, "-v"], capture_output=True, text=True).stderr.strip()
    return {"blackbox": blackbox.strip(), "pycurl": pycurl.version, "nginx": nginx, "python": sys.version.split()[0]}


def main(argv: list[str] | None = None) -> int:
    """Start the targets and both exporters, run the batches, print the table; 1 if a probe failed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--probes", type=int, default=400, help="probes per exporter and module (default 400)")
    parser.add_argument("--concurrency", type=int, default=8, help="probes in flight at once (default 8)")
    parser.add_argument("--max-seconds", type=float, default=60, help="time limit of one batch (default 60)")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    for binary in (BLACKBOX, NGINX):
        if not os.access(binary, os.X_OK):
            print(f"{binary} is missing: apt-get install prometheus-blackbox-exporter nginx-light", file=sys.stderr)
            return 1

    load_before = os.getloadavg()
    directory = Path(tempfile.mkdtemp(prefix="probe-bench-"))
    directory.chmod(0o755)  # nginx's workers (www-data when run as root) read www/ below it
    processes: list[subprocess.Popen] = []
    try:
        ca = Ca(directory / "ca")
        cert, key, _ = ca.issue(days=90)
        http_port, https_port, ours_port, blackbox_port = (free_port() for _ in range(4))
        config = modules(ca.ca_file)
        (directory / "modules.json").write_text(json.dumps(config, indent=1))
        log = open(directory / "services.log", "ab")
        start = lambda argv: processes.append(subprocess.Popen(argv, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                                                                start_new_session=True)) or processes[-1]
        nginx = start([NGINX, "-p", str(directory), "-c", str(nginx_conf(directory, http_port, https_port, cert, key))])
        ours = start([sys.executable, "-c", SERVE, str(directory / "modules.json"), str(ours_port)])
        blackbox = start([BLACKBOX, f"--config.file={directory / 'modules.json'}",
                          f"--web.listen-address={LOOPBACK}:{blackbox_port}"])
        bases = {"portalops": (f"http://{LOOPBACK}:{ours_port}", ours.pid),
                 "blackbox": (f"http://{LOOPBACK}:{blackbox_port}", blackbox.pid)}
        wait_for(f"http://{LOOPBACK}:{http_port}/", nginx)
        for name, (base, _) in bases.items():
            wait_for(base + "/metrics", ours if name == "portalops" else blackbox)

        targets = {"http_2xx": f"http://{LOOPBACK}:{http_port}/", "https_portal": f"https://{LOOPBACK}:{https_port}/",
                   "tcp_connect": f"{LOOPBACK}:{http_port}", "tls_expiry": f"{LOOPBACK}:{https_port}"}
        results: dict[str, dict[str, Batch]] = {}
        for module, target in targets.items():
            for name, (base, _) in bases.items():
                for _ in range(10):  # warm-up: first connections, CA files read, code paths loaded
                    one_probe(base, module, target)
            results[module] = window(bases, module, target, args.probes, args.concurrency, args.max_seconds)
        memory = {name: psutil.Process(pid).memory_info().rss for name, (_, pid) in bases.items()}
    except BenchError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 1
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
        shutil.rmtree(directory, ignore_errors=True)

    load_after = os.getloadavg()
    print(f"{args.probes} probes per exporter and module, {args.concurrency} in flight, on "
          f"{os.cpu_count()} CPUs with load average {load_before[0]:.1f} before and {load_after[0]:.1f} after; "
          f"RSS after: portalops {memory['portalops'] / 2**20:.0f} MiB, blackbox {memory['blackbox'] / 2**20:.0f} MiB")
    print(table(results))
    if args.json:
        record = {"versions": versions(), "probes": args.probes, "concurrency": args.concurrency,
                  "rss_bytes": memory, "cpus": os.cpu_count(), "load_average": [load_before[0], load_after[0]],
                  "results": {m: {e: dict(asdict(b), per_cpu_second=b.per_cpu_second) for e, b in pair.items()}
                              for m, pair in results.items()}}
        args.json.write_text(json.dumps(record, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
