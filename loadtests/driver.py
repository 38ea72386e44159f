"""Runs the load test as ``portalops loadtest`` does: Locust headless on the locustfile, alone
or as a master with workers, each a process of its own, the way the load is spread over
several machines (a worker elsewhere runs ``locust -f loadtests/locustfile.py --worker
--master-host CONTROLLER`` and joins the same way).
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

from loadtests.profiles import DRAIN_SECONDS

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
LOCUST = Path(sys.executable).with_name("locust")
# Beyond the profile's length: the last visits ending, then spawning, the report and shutting down.
GRACE_SECONDS = DRAIN_SECONDS + 120


def default_report_dir(profile: str) -> Path:
    """Where a run's report goes unless told: one directory per run, never overwritten."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return Path.home() / ".local/share/portalops/loadtests" / f"{stamp}-{profile}"


def free_port() -> int:
    """A TCP port nobody listens on now, for the master."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def command(options: list[str], role: list[str] = ()) -> list[str]:
    """The Locust command line for one process."""
    return [str(LOCUST), "-f", str(LOCUSTFILE), "--headless", "--only-summary", "--stop-timeout", "30",
            *role, *options]


def run(options: list[str], workers: int, timeout: float) -> int:
    """Run Locust with ``options`` (the locustfile's own and Locust's), with ``workers`` worker
    processes if above 0; the master's exit code (0 pass, 1 fail, 2 invalid)."""
    if workers <= 0:
        return _wait(subprocess.Popen(command(options)), [], timeout)
    port = free_port()
    master = subprocess.Popen(command(options, ["--master", "--master-bind-host", "127.0.0.1",
                                                "--master-bind-port", str(port), "--expect-workers",
                                                str(workers), "--expect-workers-max-wait", "60"]))
    helpers = [subprocess.Popen(command([], ["--worker", "--master-host", "127.0.0.1", "--master-port", str(port)]),
                                stdout=subprocess.DEVNULL)
               for _ in range(workers)]
    return _wait(master, helpers, timeout)


def _wait(main: subprocess.Popen, helpers: list[subprocess.Popen], timeout: float) -> int:
    """The main process's exit code; every process ends with it (or after ``timeout``)."""
    try:
        code = main.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        main.send_signal(signal.SIGTERM)
        code = main.wait(timeout=60)
        print(f"portalops loadtest: Locust did not end within {timeout:.0f} s and was stopped", file=sys.stderr)
        code = code or 2
    finally:
        for helper in helpers:
            try:
                helper.wait(timeout=30)
            except subprocess.TimeoutExpired:
                helper.kill()
        if main.poll() is None:
            main.kill()
    return code

