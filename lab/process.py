"""Small helpers to run commands and watch daemons the lab starts."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from lab import LabError


def run(*command: str, input: str | None = None, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    """Run ``command``; on failure raise LabError with the command and what it printed."""
    result = subprocess.run(command, input=input, capture_output=True, text=True, **kwargs)
    if check and result.returncode != 0:
        output = (result.stderr or result.stdout).strip()[-2000:]
        raise LabError(f"`{' '.join(command)}` failed (exit {result.returncode}): {output}")
    return result


def alive(pid: int | None, name: str) -> bool:
    """True if ``pid`` is a running (not zombie) process whose command line mentions ``name``."""
    if not pid:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return False
    state = stat.rsplit(")", 1)[1].split()[0]
    return state != "Z" and name in cmdline


def read_pid(path: Path) -> int | None:
    """The process id stored in ``path``, or None if there is none."""
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def reap(pid: int) -> None:
    """Collect ``pid`` if it is our child, so it does not linger as a zombie."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def terminate(pids: dict[int, str], timeout: float) -> None:
    """Ask each process to stop (SIGTERM), wait up to ``timeout`` s, then SIGKILL the rest."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for pid in pids:
            reap(pid)
        if not any(alive(pid, name) for pid, name in pids.items()):
            return
        time.sleep(0.2)
    for pid, name in pids.items():
        if alive(pid, name):
            os.kill(pid, signal.SIGKILL)
            reap(pid)
