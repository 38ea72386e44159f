"""The releases the deploys install: the portal (the app deploy) and the exporters (the
monitoring deploy), each built once per source on the controller.

A release is a package's wheel plus an offline wheelhouse of every dependency and a
manifest of their SHA-256, packed as ``<name>-<version>.tar.gz`` (``portalops portal
build``). A commune host with no internet installs it with ``pip install --no-index
--find-links wheelhouse <name>``; a vendor release that ships the same layout drops in
the same way. The deploys keep each build under a name that carries the source's digest,
so a second deploy of the same source uploads and installs nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tarfile
import threading
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PORTAL_SOURCE = ROOT / "portal"
EXPORTERS_SOURCE = ROOT / "monitors"

_built: dict[tuple[Path, str], Path] = {}
# pyinfra prepares hosts concurrently; one build at a time (gevent patches this lock).
_building = threading.Lock()


def distribution(source: Path = PORTAL_SOURCE) -> tuple[str, str]:
    """(distribution name, version) from the package's pyproject.toml."""
    project = tomllib.loads((source / "pyproject.toml").read_text())["project"]
    return project["name"], project["version"]


def build(out: Path, source: Path = PORTAL_SOURCE) -> Path:
    """Build ``out/<name>-<version>.tar.gz`` holding wheelhouse/ and MANIFEST.json; return its path.

    + out: the directory the release and its archive are written to
    + source: the package's source directory (the portal's by default)

    Example: ``build(Path("dist"))``
    """
    name, version = distribution(source)
    release = out / f"{name}-{version}"
    wheelhouse = release / "wheelhouse"
    wheelhouse.mkdir(parents=True, exist_ok=True)
    for old in wheelhouse.glob("*.whl"):
        old.unlink()
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--wheel-dir", str(wheelhouse),
                             str(source)], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"pip wheel failed: {result.stderr.strip()[-2000:]}")
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(wheelhouse.glob("*.whl"))}
    manifest = {"name": name, "version": version, "python": f"{sys.version_info.major}.{sys.version_info.minor}",
                "install": f"pip install --no-index --find-links wheelhouse {name}=={version}",
                "wheels": files}
    (release / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n")
    archive = out / f"{name}-{version}.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(release, arcname=release.name)
    return archive


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
    name, version = distribution(source)
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
