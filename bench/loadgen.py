"""Benchmark: the load generator's efficiency (requests per core) against wrk, on the same static page.

It starts its own nginx (Debian's ``nginx-light``) on a free loopback port, one worker, no
access log, serving one static page of about 2 KiB from a temporary directory, and runs
against ``http://127.0.0.1:PORT/page.html``, one after the other and each for ``--seconds``
(default 20), with 10 connections or users each:

- **wrk** (Debian's ``wrk``): ``wrk -t1 -c10``, one thread, C and epoll: the floor of what
  an HTTP/1.1 keep-alive request costs a client on this machine;
- **Locust, HttpUser**: one headless Locust process, 10 users of :mod:`bench.loadgen_users`
  that fetch the page with no think time through python-requests: the client the portal's
  journeys use (it lets each user bind its own source address);
- **Locust, FastHttpUser**: the same with geventhttpclient, Locust's cheaper client.

"Requests per core" here is **requests per CPU-second** of the generator's process tree:
requests answered (wrk's count, Locust's ``num_requests``) divided by the user + system CPU the
generator used, read from the kernel's rusage of the reaped child (``RUSAGE_CHILDREN`` before
and after). For Locust that includes its start-up and shut-down (importing Locust, gevent and
requests: under a second of CPU on an idle machine); the CPU it used between the test's start
and stop is reported too (written by the user module itself), so the steady-state figure is
there as well. Locust's ``--run-time`` is made to last what it says (see bench/loadgen_users.py).

Pinning: the generator runs on core 0 (``taskset -c 0``), nginx on core 1 (``taskset -c 1``),
so neither generator can borrow a second core and the server does not steal the generator's.
CPU-seconds, not wall time, are the measure, so other load on the machine lowers every
generator's requests per second but not, to first order, its requests per CPU-second; the
ratios wrk / Locust within one run are the figures to compare. Without ``taskset`` (or
without cores 0 and 1) it runs unpinned and says so. nginx's own CPU over each run is shown to
tell whether the server, not the generator, was the limit.

It prints a Markdown table and with ``--json FILE`` writes the figures with the versions of
wrk, nginx and Locust. It exits non-zero if a generator failed: non-zero exit, no requests,
or any failed request (non-2xx answer, socket error). Only loopback is touched. Run (root is
needed only to install the packages: ``apt-get install -y nginx-light wrk``):
``.venv/bin/python bench/loadgen.py [--seconds 20] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[1]
USERS = ROOT / "bench" / "loadgen_users.py"
PAGE = "page.html"  # the path loadgen_users.PAGE requests
CONNECTIONS = 10  # wrk's connections, Locust's users
GENERATOR_CORE, SERVER_CORE = "0", "1"
TICKS = os.sysconf("SC_CLK_TCK")
SBIN = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])  # nginx is in /usr/sbin

# Proxy settings of the environment would send python-requests' and urllib's requests elsewhere.
LOOPBACK_ONLY = {**{k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}, "NO_PROXY": "*"}
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))

NGINX_CONF = """\
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    types {{ text/html html; }}
    # Connections stay open for the whole run, so both generators measure requests, not handshakes.
    keepalive_requests 10000000;
    keepalive_timeout 120s;
    server {{
        listen 127.0.0.1:{port};
        root {prefix}/html;
    }}
}}
"""

PROCEDURES = ["Cấp giấy phép xây dựng nhà ở riêng lẻ", "Đăng ký khai sinh", "Chứng thực bản sao từ bản chính",
              "Đăng ký kết hôn", "Cấp phiếu lý lịch tư pháp", "Đăng ký thành lập hộ kinh doanh",
              "Cấp đổi giấy chứng nhận quyền sử dụng đất", "Xác nhận tình trạng hôn nhân",
              "Đăng ký thường trú", "Cấp giấy phép lái xe (đổi)"]


def page_html() -> str:
    """A small portal page of about 2 KiB: the static endpoint both generators request."""
    items = "\n".join(f'    <li><a href="/thu-tuc/1.00{n}">{name}</a> <span>Mức độ 4 · trực tuyến toàn trình</span></li>'
                      for n, name in enumerate(PROCEDURES))
    return ("<!doctype html>\n<html lang=\"vi\">\n<head>\n  <meta charset=\"utf-8\">\n"
            "  <title>Cổng dịch vụ công tỉnh Thanh Hóa</title>\n"
            "  <link rel=\"stylesheet\" href=\"/static/app.css\">\n</head>\n<body>\n"
            "  <header><h1>Cổng dịch vụ công tỉnh Thanh Hóa</h1>\n"
            "  <form action=\"/thu-tuc\"><input name=\"q\" placeholder=\"Tìm thủ tục hành chính\"></form></header>\n"
            f"  <h2>Thủ tục được tìm nhiều</h2>\n  <ul>\n{items}\n  </ul>\n"
            "  <p>Tra cứu hồ sơ: nhập mã hồ sơ trên giấy tiếp nhận để xem tình trạng giải quyết.</p>\n"
            "  <footer>Trung tâm Phục vụ hành chính công tỉnh · Hotline 1900 0000</footer>\n</body>\n</html>\n")


def free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def pinning_available() -> bool:
    return bool(shutil.which("taskset")) and {int(GENERATOR_CORE), int(SERVER_CORE)} <= os.sched_getaffinity(0)


def pinned(command: list[str], core: str) -> list[str]:
    """``command`` run on ``core`` alone, when pinning is available (taskset execs it: same pid)."""
    return ["taskset", "-c", core, *command] if pinning_available() else command


@contextmanager
def static_server(prefix: Path) -> Iterator[tuple[str, int]]:
    """(page URL, nginx worker's pid) of an nginx serving the page on loopback; stopped on exit."""
    (prefix / "html").mkdir(parents=True)
    (prefix / "html" / PAGE).write_text(page_html())
    port = free_loopback_port()
    (prefix / "nginx.conf").write_text(NGINX_CONF.format(prefix=prefix, port=port))
    command = [shutil.which("nginx", path=SBIN), "-p", str(prefix), "-c", str(prefix / "nginx.conf"),
               "-e", str(prefix / "error.log"), "-g", "daemon off;"]
    nginx = subprocess.Popen(pinned(command, SERVER_CORE), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}/{PAGE}"
        worker = wait_for_page(nginx, url)
        yield url, worker
    finally:
        if nginx.poll() is None:
            nginx.send_signal(signal.SIGQUIT)  # graceful: the master waits for its worker
            try:
                nginx.wait(timeout=10)
            except subprocess.TimeoutExpired:
                nginx.kill()
                nginx.wait(timeout=10)


def wait_for_page(nginx: subprocess.Popen, url: str, attempts: int = 100) -> int:
    """The worker's pid once nginx serves the page whole (at most ``attempts`` tries, 0.1 s apart)."""
    error: OSError | None = None
    for _ in range(attempts):
        if nginx.poll() is not None:
            raise SystemExit(f"nginx exited ({nginx.returncode}): {nginx.stderr.read().decode()[-2000:]}")
        try:
            with DIRECT.open(url, timeout=2) as answer:
                body = answer.read()
        except OSError as refused:
            error = refused
            time.sleep(0.1)
            continue
        if body.decode() != page_html():
            raise SystemExit(f"nginx on {url} does not serve the page it was given")
        children = Path(f"/proc/{nginx.pid}/task/{nginx.pid}/children").read_text().split()
        if len(children) != 1:
            raise SystemExit(f"nginx should have one worker, has {children}")
        return int(children[0])
    raise SystemExit(f"nginx did not serve {url} within {attempts / 10:.0f} s: {error}")


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a running process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def measured(command: list[str], timeout: float, server: int, **popen) -> tuple[subprocess.CompletedProcess, dict]:
    """Run a generator to its end; its result and CPU, wall time and the server's CPU meanwhile."""
    before, server_before = resource.getrusage(resource.RUSAGE_CHILDREN), process_cpu(server)
    wall = time.perf_counter()
    try:
        result = subprocess.run(pinned(command, GENERATOR_CORE), capture_output=True, text=True, timeout=timeout,
                                **popen)
    except subprocess.TimeoutExpired:
        raise SystemExit(f"{command[0]} did not finish within {timeout:.0f} s") from None
    wall = time.perf_counter() - wall
    after, server_after = resource.getrusage(resource.RUSAGE_CHILDREN), process_cpu(server)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return result, {"cpu_seconds": cpu, "wall_seconds": wall, "server_cpu_seconds": server_after - server_before}


def count(pattern: str, text: str) -> int:
    found = re.search(pattern, text)
    return int(found.group(1)) if found else 0


def run_wrk(url: str, seconds: int, server: int) -> dict:
    """wrk's figures over ``seconds``: one thread, ``CONNECTIONS`` keep-alive connections."""
    result, figures = measured(["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", url], seconds + 60, server)
    if result.returncode != 0:
        raise SystemExit(f"wrk failed ({result.returncode}): {(result.stderr or result.stdout)[-2000:]}")
    requests = count(r"(\d+) requests in", result.stdout)
    socket_errors = sum(map(int, re.findall(r"(?:connect|read|write|timeout) (\d+)", result.stdout)))
    duration = re.search(r"requests in ([\d.]+)(m?s)", result.stdout)
    return {**figures, "requests": requests,
            "failures": count(r"Non-2xx or 3xx responses: (\d+)", result.stdout) + socket_errors,
            "run_seconds": float(duration.group(1)) / (1000 if duration.group(2) == "ms" else 1) if duration else seconds,
            "output": result.stdout}


def run_locust(url: str, seconds: int, server: int, user: str, directory: Path) -> dict:
    """One headless Locust process's figures over ``seconds``: ``CONNECTIONS`` users of class ``user``."""
    stats, rusage = directory / f"locust-{user}", directory / f"locust-{user}-rusage.json"
    command = [sys.executable, "-m", "locust", "-f", str(USERS), "--headless", "--host", url.rsplit("/", 1)[0],
               "--users", str(CONNECTIONS), "--spawn-rate", str(CONNECTIONS), "--run-time", f"{seconds}s",
               "--only-summary", "--loglevel", "WARNING", "--json-file", str(stats), user]
    # In the temporary directory, no locust.conf or pyproject.toml of the tree can change the run.
    result, figures = measured(command, seconds + 120, server, cwd=directory,
                               env={**LOOPBACK_ONLY, "LOADGEN_RUSAGE": str(rusage)})
    entries = json.loads(Path(f"{stats}.json").read_text()) if Path(f"{stats}.json").exists() else []
    requests = sum(entry["num_requests"] for entry in entries)
    failures = sum(entry["num_failures"] for entry in entries)
    if result.returncode != 0 and not failures:
        raise SystemExit(f"Locust {user} failed ({result.returncode}): {result.stderr[-2000:]}")
    run = json.loads(rusage.read_text()) if rusage.exists() else {}
    return {**figures, "requests": requests, "failures": failures,
            "run_seconds": run.get("wall_seconds", seconds), "run_cpu_seconds": run.get("cpu_seconds"),
            "output": result.stderr[-2000:]}


def per(amount: float, unit: float) -> float:
    """``amount`` per ``unit``; NaN when there is no unit (a generator that did nothing)."""
    return amount / unit if unit else float("nan")


def versions() -> dict[str, str]:
    """wrk's, nginx's and Locust's versions as they print them."""
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True, timeout=30).stdout.split()
    nginx = subprocess.run([shutil.which("nginx", path=SBIN), "-v"], capture_output=True, text=True, timeout=30)
    locust = subprocess.run([sys.executable, "-m", "locust", "--version"], capture_output=True, text=True, timeout=60)
    return {"wrk": wrk[1] if len(wrk) > 1 else "?", "nginx": nginx.stderr.strip().rsplit("/", 1)[-1],
            "locust": locust.stdout.split()[1] if locust.stdout else "?", "python": sys.version.split()[0]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=20, help="seconds each generator runs (default 20)")
    parser.add_argument("--json", type=Path, help="write the results to this file")
    args = parser.parse_args()
    if not 1 <= args.seconds <= 3600:
        raise SystemExit("--seconds must be between 1 and 3600")
    missing = [tool for tool, path in (("nginx-light", shutil.which("nginx", path=SBIN)), ("wrk", shutil.which("wrk")))
               if not path]
    if missing:
        raise SystemExit(f"not installed: {' '.join(missing)}: apt-get install -y {' '.join(missing)}")
    generators = {}
    with tempfile.TemporaryDirectory(prefix="loadgen-bench-") as name:
        directory = Path(name)
        directory.chmod(0o755)  # as root, nginx's worker runs as nobody and must reach the page
        with static_server(directory / "nginx") as (url, worker):
            generators["wrk"] = run_wrk(url, args.seconds, worker)
            for user, label in (("PageUser", "locust HttpUser"), ("FastPageUser", "locust FastHttpUser")):
                generators[label] = run_locust(url, args.seconds, worker, user, directory)
    for figures in generators.values():
        figures["requests_per_second"] = per(figures["requests"], figures["run_seconds"])
        figures["requests_per_cpu_second"] = per(figures["requests"], figures["cpu_seconds"])
        figures["run_requests_per_cpu_second"] = per(figures["requests"],
                                                     figures.get("run_cpu_seconds") or figures["cpu_seconds"])
    wrk = generators["wrk"]
    for figures in generators.values():
        figures["wrk_ratio"] = per(wrk["requests_per_cpu_second"], figures["requests_per_cpu_second"])
        figures["run_wrk_ratio"] = per(wrk["run_requests_per_cpu_second"], figures["run_requests_per_cpu_second"])
    results = {"seconds": args.seconds, "connections": CONNECTIONS, "page_bytes": len(page_html().encode()),
               "pinned": pinning_available(), "versions": versions(),
               "generators": {label: {k: v for k, v in figures.items() if k != "output"}
                              for label, figures in generators.items()}}

    v = results["versions"]
    pinning = (f"generator on core {GENERATOR_CORE}, nginx on core {SERVER_CORE}" if results["pinned"]
               else "not pinned (no taskset, or no cores 0 and 1)")
    print(f"{args.seconds} s each, {CONNECTIONS} connections/users, {results['page_bytes']} B page, {pinning}; "
          f"wrk {v['wrk']}, nginx {v['nginx']}, Locust {v['locust']} (Python {v['python']})")
    print("| generator | requests | requests/s | failures | CPU s | requests per CPU s | wrk / this "
          "| in-run CPU s | in-run requests per CPU s | wrk / this (in-run) | nginx CPU s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, f in generators.items():
        run_cpu = f.get("run_cpu_seconds") or f["cpu_seconds"]
        print(f"| {label} | {f['requests']:,} | {f['requests_per_second']:,.0f} | {f['failures']:,} "
              f"| {f['cpu_seconds']:.2f} | {f['requests_per_cpu_second']:,.0f} | {f['wrk_ratio']:.1f} "
              f"| {run_cpu:.2f} | {f['run_requests_per_cpu_second']:,.0f} | {f['run_wrk_ratio']:.1f} "
              f"| {f['server_cpu_seconds']:.2f} |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    failed = [f"{label}: {f['requests']:,} requests, {f['failures']:,} failed\n{f['output']}"
              for label, f in generators.items() if not f["requests"] or f["failures"]]
    if failed:
        print("generator failed:\n  " + "\n  ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
