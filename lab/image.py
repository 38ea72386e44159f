"""The Debian 12 base image every lab host boots from, built once and cached.

Each host boots from an overlay on this image, so the image is never written
after it is built. It is built in a temporary directory and renamed into place,
so an interrupted build never leaves a half image that looks whole.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from lab import LabError, settings
from lab.apt_cache import proxy_url
from lab.process import run


def image_dir() -> Path:
    """Where the image for the current recipe lives (a new recipe gets a new directory)."""
    recipe = f"{settings.IMAGE_RECIPE} {settings.SUITE} {' '.join(settings.BASE_PACKAGES)} {settings.CONTROLLER_ADDRESS}"
    digest = hashlib.sha256(recipe.encode()).hexdigest()[:12]
    return settings.IMAGES_DIR / f"{settings.SUITE}-{digest}"


def _configure(root: Path) -> None:
    """What every host shares: apt through the lab cache, networkd on, no shared identity."""
    (root / "etc/apt/sources.list").write_text(
        f"deb {settings.DEBIAN_MIRROR} {settings.SUITE} main\n"
        f"deb {settings.DEBIAN_MIRROR} {settings.SUITE}-updates main\n"
        f"deb {settings.DEBIAN_SECURITY} {settings.SUITE}-security main\n"
    )
    # Hosts have no DNS and no route out: apt reaches Debian only through the cache.
    (root / "etc/apt/apt.conf.d/01portalops-proxy").write_text(
        f'Acquire::http::Proxy "{proxy_url()}";\n'
    )
    (root / "etc/resolv.conf").unlink(missing_ok=True)
    (root / "etc/resolv.conf").write_text("# lab hosts have no DNS: names are in /etc/hosts\n")
    run("chroot", str(root), "systemctl", "enable", "systemd-networkd.service")
    run("chroot", str(root), "useradd", "--create-home", "--shell", "/bin/bash", "--groups", "sudo",
        settings.SSH_USER)
    sudoers = root / "etc/sudoers.d" / settings.SSH_USER
    sudoers.write_text(f"# The lab's admin account: key login only, so sudo asks no password.\n"
                       f"{settings.SSH_USER} ALL=(ALL:ALL) NOPASSWD: ALL\n")
    sudoers.chmod(0o440)
    # Each host gets its own SSH host keys and machine id when it is created.
    for key in (root / "etc/ssh").glob("ssh_host_*"):
        key.unlink()
    (root / "etc/machine-id").write_text("")
    shutil.rmtree(root / "var/cache/apt/archives", ignore_errors=True)
    (root / "var/cache/apt/archives/partial").mkdir(parents=True)


def ensure_image(log=print) -> Path:
    """Build the base image unless the current one is cached; return its directory.

    Needs the lab's apt cache running (packages are fetched through it).
    """
    target = image_dir()
    if (target / "etc/os-release").exists():
        return target
    settings.IMAGES_DIR.mkdir(parents=True, exist_ok=True)
    building = target.with_name(target.name + ".building")
    shutil.rmtree(building, ignore_errors=True)
    log(f"building the Debian {settings.SUITE} base image in {target} (once; about a minute)")
    env = dict(os.environ, http_proxy=proxy_url("127.0.0.1"))
    try:
        run(
            "debootstrap", "--variant=minbase", f"--include={','.join(settings.BASE_PACKAGES)}",
            settings.SUITE, str(building), settings.DEBIAN_MIRROR, env=env,
        )
        _configure(building)
    except LabError:
        shutil.rmtree(building, ignore_errors=True)
        raise
    building.rename(target)
    return target
