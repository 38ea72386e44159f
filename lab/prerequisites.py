"""What the controller must have before a lab can come up, checked with clear messages."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from lab import LabError

# command -> Debian package that provides it
TOOLS = {
    "debootstrap": "debootstrap",
    "systemd-nspawn": "systemd-container",
    "apt-cacher-ng": "apt-cacher-ng",
    "ip": "iproute2",
    "nft": "nftables",
    "ssh": "openssh-client",
    "ssh-keygen": "openssh-client",
    "mount": "mount",
}


def require_root() -> None:
    """Refuse to go on unless running as root (the lab mounts, boots and links hosts)."""
    if os.geteuid() != 0:
        raise LabError("the lab needs root: it mounts disks, boots hosts and makes a bridge; "
                       "run it as root (sudo portalops lab ...)")


def missing_tools() -> dict[str, str]:
    """Tools the lab needs that are not on PATH, with the Debian package for each."""
    search = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
    return {tool: package for tool, package in TOOLS.items() if not shutil.which(tool, path=search)}


def require_tools() -> None:
    """Refuse to go on if a tool or the overlay filesystem is missing, naming the fix."""
    missing = missing_tools()
    if missing:
        packages = " ".join(sorted(set(missing.values())))
        raise LabError(f"missing {', '.join(sorted(missing))}: install with "
                       f"`apt-get install {packages}` (or run `make setup`)")
    if "overlay" not in Path("/proc/filesystems").read_text():
        raise LabError("the kernel has no overlay filesystem: `modprobe overlay`, then try again")


def require_all() -> None:
    """Root and every tool: what ``lab up`` and ``lab down`` need."""
    require_root()
    require_tools()
