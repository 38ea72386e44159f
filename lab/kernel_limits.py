"""Controller kernel limits that a province of booted hosts outgrows.

Every host's systemd and journald open inotify instances under the same (root)
user, and Debian's default of 128 instances runs out at about twenty hosts:
systemd then fails to start units ("Failed to create inotify object: Too many
open files"). ``up`` raises the limits, never lowers them, and remembers the
values it found; ``down`` puts those back, so the machine ends as it was.
"""

from __future__ import annotations

import json
from pathlib import Path

from lab import settings

PROC_SYS = Path("/proc/sys")


def _path(name: str) -> Path:
    return PROC_SYS / name.replace(".", "/")


def raise_limits() -> dict[str, int]:
    """Raise each limit in settings.KERNEL_LIMITS that is lower; return what was changed."""
    saved = json.loads(settings.SAVED_LIMITS.read_text()) if settings.SAVED_LIMITS.exists() else {}
    changed = {}
    for name, wanted in settings.KERNEL_LIMITS.items():
        current = int(_path(name).read_text())
        if current < wanted:
            saved.setdefault(name, current)
            _path(name).write_text(str(wanted))
            changed[name] = wanted
    settings.SAVED_LIMITS.write_text(json.dumps(saved))
    return changed


def restore_limits() -> None:
    """Put back the values ``raise_limits`` found."""
    if not settings.SAVED_LIMITS.exists():
        return
    for name, value in json.loads(settings.SAVED_LIMITS.read_text()).items():
        _path(name).write_text(str(value))
    settings.SAVED_LIMITS.unlink()
