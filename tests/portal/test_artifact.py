"""The portal ships as an artifact that installs with no index, as on a commune host offline; the
exporters' distribution, which every host installs, holds the exporters and nothing of their tests."""

import json
import subprocess
import sys
import tarfile
import zipfile

from deploy.release import EXPORTERS_SOURCE, build, distribution


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


def test_the_exporters_wheel_holds_the_exporters_and_none_of_their_test_servers(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(tmp_path),
                    str(EXPORTERS_SOURCE)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("portalops_exporters-*.whl")
    modules = [name for name in zipfile.ZipFile(wheel).namelist() if name.endswith(".py")]
    assert "portalops_exporters/probe/journey.py" in modules and "portalops_exporters/cli.py" in modules
    assert [name for name in modules if not name.startswith("portalops_exporters/")] == []
    assert [name for name in modules if "testbed" in name or "probe_servers" in name or "/tests/" in name] == []
