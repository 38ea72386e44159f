"""apt-cacher-ng on the controller: every lab host installs packages through it.

The lab runs its own instance (its own configuration under the state directory,
packages under the cache directory), so it neither needs nor disturbs a system
apt-cacher-ng. A commune behind a slow link wants exactly this cache in
production too.
"""

from __future__ import annotations

import shutil
import socket
import time

from lab import LabError, settings
from lab.process import alive, read_pid, run, terminate

PROCESS = "apt-cacher-ng"


def _write_config() -> None:
    conf = settings.APT_CACHE_CONF
    conf.mkdir(parents=True, exist_ok=True)
    # Without an explicit backend apt-cacher-ng picks a mirror from its list that
    # this machine cannot resolve.
    (conf / "backends_debian").write_text(settings.DEBIAN_MIRROR + "/\n")
    (conf / "acng.conf").write_text(
        f"""# Written by portalops lab; changes are lost at the next `lab up`.
CacheDir: {settings.APT_CACHE_DIR}
LogDir: {settings.APT_CACHE_DIR}/log
SupportDir: /usr/lib/apt-cacher-ng
Port: {settings.APT_CACHE_PORT}
BindAddress: 127.0.0.1 {settings.CONTROLLER_ADDRESS}
Remap-debrep: file:deb_mirror*.gz /debian ; file:backends_debian
Remap-secdeb: security.debian.org security.debian.org/debian-security deb.debian.org/debian-security /debian-security ; {settings.DEBIAN_SECURITY.removeprefix('http://')}
ExThreshold: 4
"""
    )


def _pidfile():
    return settings.APT_CACHE_CONF / "pid"


def running() -> bool:
    """True if the lab's apt-cacher-ng is running."""
    return alive(read_pid(_pidfile()), PROCESS)


def _answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", settings.APT_CACHE_PORT), timeout=1):
            return True
    except OSError:
        return False


def ensure_running() -> None:
    """Start the lab's apt-cacher-ng unless it runs; wait until it accepts connections."""
    if running() and _answers():
        return
    if _answers():
        raise LabError(f"port {settings.APT_CACHE_PORT} is taken by another program "
                       "(a system apt-cacher-ng?): stop it, then run `lab up` again")
    _write_config()
    log_dir = settings.APT_CACHE_DIR / "log"
    log_dir.mkdir(parents=True, exist_ok=True)
    shutil.chown(settings.APT_CACHE_DIR, settings.APT_CACHE_USER, settings.APT_CACHE_USER)
    shutil.chown(log_dir, settings.APT_CACHE_USER, settings.APT_CACHE_USER)
    pidfile = _pidfile()
    pidfile.unlink(missing_ok=True)
    shutil.chown(settings.APT_CACHE_CONF, settings.APT_CACHE_USER, settings.APT_CACHE_USER)
    run(
        "runuser", "-u", settings.APT_CACHE_USER, "--", "apt-cacher-ng",
        "-c", str(settings.APT_CACHE_CONF), f"pidfile={pidfile}",
        f"SocketPath={settings.APT_CACHE_CONF / 'socket'}", "foreground=0",
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if running() and _answers():
            return
        time.sleep(0.2)
    raise LabError(f"apt-cacher-ng did not start; see {log_dir}/apt-cacher.err")


def stop() -> None:
    """Stop the lab's apt-cacher-ng; the cached packages stay for the next lab."""
    pid = read_pid(_pidfile())
    if alive(pid, PROCESS):
        terminate({pid: PROCESS}, timeout=10)
    _pidfile().unlink(missing_ok=True)


def proxy_url(address: str = settings.CONTROLLER_ADDRESS) -> str:
    """The HTTP proxy URL through which a host (or the controller, at 127.0.0.1) reaches apt."""
    return f"http://{address}:{settings.APT_CACHE_PORT}"
