"""The portal ships as an artifact that installs with no index, as on a commune host offline."""

import json
import subprocess
import sys
import tarfile

from deploy.release import build, distribution


def test_the_release_installs_offline_and_runs(tmp_path):
    archive = build(tmp_path / "dist")
    name, version = distribution()
    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path / "unpacked", filter="data")
    release = tmp_path / "unpacked" / f"{name}-{version}"
    manifest = json.loads((release / "MANIFEST.json").read_text())
    assert manifest["version"] == version and any(w.startswith("dichvucong-") for w in manifest["wheels"])
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    install = subprocess.run([str(venv / "bin/pip"), "install", "--quiet", "--no-index", "--find-links",
                              str(release / "wheelhouse"), f"{name}=={version}"], capture_output=True, text=True)
    assert install.returncode == 0, install.stderr
    check = subprocess.run([str(venv / "bin/python"), "-c",
                            "from dichvucong.app import create_app; from dichvucong.db import schema_sql;"
                            "print(len(schema_sql()) > 0)"], capture_output=True, text=True)
    assert check.stdout.strip() == "True", check.stderr
    assert subprocess.run([str(venv / "bin/dichvucong"), "--help"], capture_output=True).returncode == 0
