"""Space on the file systems that hold a host's stores (uploads, backup repository, database)."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Space:
    """A file system's size and the bytes still available to unprivileged users (the services)."""

    size_bytes: int
    avail_bytes: int


def space(path: str) -> Space:
    """The space of the file system holding ``path`` (OSError when it cannot be reached).

    Available, not free: root's reserved blocks are of no use to PostgreSQL or the portal.
    Reaching a path under a directory only its owner may search (the upload directory is
    under /var/lib/dichvucong, mode 750) takes that owner's group or CAP_DAC_READ_SEARCH.
    """
    stat = os.statvfs(path)
    return Space(size_bytes=stat.f_blocks * stat.f_frsize, avail_bytes=stat.f_bavail * stat.f_frsize)
