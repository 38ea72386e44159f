"""The portal as a release artifact: its wheel plus an offline wheelhouse of every dependency.

A commune host with no internet installs it with
``pip install --no-index --find-links wheelhouse dichvucong``. The manifest lists
each file's SHA-256 so a deploy can check what it copies; a vendor release that
ships the same layout drops in the same way.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

PORTAL_SOURCE = Path(__file__).resolve().parents[1] / "portal"


def portal_version(source: Path = PORTAL_SOURCE) -> tuple[str, str]:
    """(distribution name, version) from the portal's pyproject.toml."""
    project = tomllib.loads((source / "pyproject.toml").read_text())["project"]
    return project["name"], project["version"]


def build(out: Path, source: Path = PORTAL_SOURCE) -> Path:
    """Build ``out/<name>-<version>.tar.gz`` holding wheelhouse/ and MANIFEST.json; return its path."""
    name, version = portal_version(source)
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
