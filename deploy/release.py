"""The portal release the app deploy installs, built once per source on the controller.

The release is the artifact of ``portalops portal build`` (the portal's wheel and an
offline wheelhouse). It is kept under a name that carries the source's digest, so a
second deploy of the same source uploads and installs nothing; a vendor release in
the same layout can be named by ``portal_release_dir`` instead.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

from portalops.artifact import PORTAL_SOURCE, build, portal_version

_built: dict[str, Path] = {}
# pyinfra prepares hosts concurrently; one build at a time (gevent patches this lock).
_building = threading.Lock()


def source_digest(source: Path = PORTAL_SOURCE) -> str:
    """SHA-256 over the portal's source files (names and contents)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in source.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                       and ".egg-info" not in str(p)):
        digest.update(str(path.relative_to(source)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def cache_dir() -> Path:
    """Where built releases are kept on the controller."""
    return Path(os.environ.get("PORTALOPS_RELEASE_CACHE", Path.home() / ".cache/portalops/releases"))


def portal_release() -> tuple[str, Path]:
    """(release name, directory holding wheelhouse/ and MANIFEST.json), building it if needed."""
    name, version = portal_version()
    release_name = f"{version}-{source_digest()[:12]}"
    with _building:
        if release_name not in _built:
            directory = cache_dir() / release_name
            if not (directory / f"{name}-{version}" / "MANIFEST.json").exists():
                build(directory)
            _built[release_name] = directory / f"{name}-{version}"
    return release_name, _built[release_name]
