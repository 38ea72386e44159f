"""The releases the deploys install, built once per source on the controller: the portal
(the app deploy) and the exporters (the monitoring deploy).

A release is the artifact of ``portalops portal build`` (the package's wheel and an
offline wheelhouse). It is kept under a name that carries the source's digest, so a
second deploy of the same source uploads and installs nothing.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

from portalops.artifact import PORTAL_SOURCE, build, portal_version

EXPORTERS_SOURCE = PORTAL_SOURCE.parent / "monitors"

_built: dict[tuple[Path, str], Path] = {}
# pyinfra prepares hosts concurrently; one build at a time (gevent patches this lock).
_building = threading.Lock()


def source_digest(source: Path = PORTAL_SOURCE) -> str:
    """SHA-256 over a package's source files (names and contents), build leftovers excepted."""
    digest = hashlib.sha256()
    for path in sorted(p for p in source.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                       and ".egg-info" not in str(p) and p.relative_to(source).parts[0] != "build"):
        digest.update(str(path.relative_to(source)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def cache_dir() -> Path:
    """Where built releases are kept on the controller."""
    return Path(os.environ.get("PORTALOPS_RELEASE_CACHE", Path.home() / ".cache/portalops/releases"))


def release_of(source: Path) -> tuple[str, Path]:
    """(release name, directory holding wheelhouse/ and MANIFEST.json) of the package at
    ``source``, building it if needed."""
    name, version = portal_version(source)
    release_name = f"{version}-{source_digest(source)[:12]}"
    with _building:
        if (source, release_name) not in _built:
            directory = cache_dir() / name / release_name
            if not (directory / f"{name}-{version}" / "MANIFEST.json").exists():
                build(directory, source)
            _built[(source, release_name)] = directory / f"{name}-{version}"
    return release_name, _built[(source, release_name)]


def portal_release() -> tuple[str, Path]:
    """The portal's release (see :func:`release_of`)."""
    return release_of(PORTAL_SOURCE)


def exporters_release() -> tuple[str, Path]:
    """The exporters' release (see :func:`release_of`)."""
    return release_of(EXPORTERS_SOURCE)
