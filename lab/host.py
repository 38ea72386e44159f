"""One lab host: an overlay disk on the base image, booted with systemd-nspawn.

A host's directory under the state directory holds its writable layer, the
mount point of its root, its console log and the pid of its nspawn process.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from inventory.units import Host
from lab import LabError, cgroups, settings
from lab.process import alive, read_pid, run

NSPAWN = "systemd-nspawn"


HOSTS_BEGIN, HOSTS_END = "# BEGIN portalops lab", "# END portalops lab"


def _outside_block(lines: list[str]) -> list[str]:
    """The lines of /etc/hosts outside the lab's block (none of a file the lab wrote before
    it used a block, or of the image's own default)."""
    if HOSTS_BEGIN not in lines or HOSTS_END not in lines:
        return []
    return lines[:lines.index(HOSTS_BEGIN)] + lines[lines.index(HOSTS_END) + 1:]


@dataclass(frozen=True)
class LabHost:
    """A units-table host as it lives in the lab."""

    host: Host

    @property
    def name(self) -> str:
        """The host (and nspawn machine) name."""
        return self.host.host

    @property
    def directory(self) -> Path:
        """The host's own directory in the state directory."""
        return settings.HOSTS_DIR / self.name

    @property
    def root(self) -> Path:
        """Where the host's root filesystem is mounted on the controller."""
        return self.directory / "root"

    @property
    def pid(self) -> int | None:
        """The pid of the host's nspawn process, if recorded."""
        return read_pid(self.directory / "nspawn.pid")

    def running(self) -> bool:
        """True if the host's nspawn process runs."""
        return alive(self.pid, f"--machine={self.name}")

    def mounted(self) -> bool:
        """True if the host's root is mounted."""
        return str(self.root) in mounted_paths()

    def booted_address(self) -> str | None:
        """The address the host was booted with (it is restarted if the table changes it)."""
        try:
            return (self.directory / "address").read_text().strip()
        except OSError:
            return None

    def host_key(self) -> str:
        """The host's public ed25519 SSH host key line."""
        return (self.directory / "upper/etc/ssh/ssh_host_ed25519_key.pub").read_text().strip()

    def create(self, image: Path, operator_key: Path, neighbours: list[Host]) -> None:
        """Mount the host's disk on ``image`` and give it its identity and network.

        + image: the base image directory (read-only lower layer)
        + operator_key: the operator's private key; its .pub is authorised for root
        + neighbours: every host of the lab, for /etc/hosts
        """
        for part in ("upper", "work", "root"):
            (self.directory / part).mkdir(parents=True, exist_ok=True)
        if not self.mounted():
            run("mount", "-t", "overlay", "overlay", "-o",
                f"lowerdir={image},upperdir={self.directory / 'upper'},workdir={self.directory / 'work'}",
                str(self.root))
        root = self.root
        (root / "etc/hostname").write_text(self.name + "\n")
        self.write_hosts_file(neighbours)
        network = root / "etc/systemd/network"
        network.mkdir(parents=True, exist_ok=True)
        # Sorted before systemd's 80-container-host0.network, which would ask for DHCP.
        (network / "10-portalops-lab.network").write_text(
            f"[Match]\nName=host0\n\n[Network]\nAddress={self.host.address}/{settings.LAB_NETWORK.prefixlen}\n"
            "LinkLocalAddressing=no\nIPv6AcceptRA=no\n"
        )
        if not (root / "etc/ssh/ssh_host_ed25519_key").exists():
            run("ssh-keygen", "-A", "-f", str(root))
        self._authorise(operator_key)
        (self.directory / "address").write_text(self.host.address + "\n")

    def _authorise(self, operator_key: Path) -> None:
        """Let the operator's key log in as the lab's admin account."""
        entry = next(line.split(":") for line in (self.root / "etc/passwd").read_text().splitlines()
                     if line.startswith(settings.SSH_USER + ":"))
        uid, gid, home = int(entry[2]), int(entry[3]), self.root / entry[5].lstrip("/")
        ssh_dir = home / ".ssh"
        ssh_dir.mkdir(mode=0o700, exist_ok=True)
        authorized = ssh_dir / "authorized_keys"
        authorized.write_text(Path(f"{operator_key}.pub").read_text())
        authorized.chmod(0o600)
        for path in (ssh_dir, authorized):
            os.chown(path, uid, gid)

    def write_hosts_file(self, neighbours: list[Host]) -> None:
        """Name every lab host in /etc/hosts (hosts have no DNS), in a block of the lab's own,
        so that what a deploy added to the file outside it survives the lab's next ``up``."""
        lines = ["127.0.0.1 localhost", f"127.0.1.1 {self.name}"]
        lines += [f"{h.address} {h.host}" for h in neighbours if h.host != self.name]
        lines.append(f"{settings.CONTROLLER_ADDRESS} controller")
        path = self.root / "etc/hosts"
        kept = _outside_block(path.read_text().splitlines() if path.exists() else [])
        path.write_text("\n".join([HOSTS_BEGIN, *lines, HOSTS_END, *kept]) + "\n")

    def boot(self) -> None:
        """Start the host's nspawn process in the background, booting systemd."""
        log = open(self.directory / "console.log", "ab")
        process = subprocess.Popen(
            [NSPAWN, "-D", str(self.root), "--boot", f"--machine={self.name}",
             # There is no system bus on the controller to register with.
             "--register=no", "--keep-unit",
             f"--network-bridge={settings.BRIDGE}", "--console=passive",
             "--resolv-conf=off", "--link-journal=no", "--timezone=off"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
            preexec_fn=lambda: cgroups.enter(self.name),
        )
        log.close()
        (self.directory / "nspawn.pid").write_text(f"{process.pid}\n")

    def console_tail(self, lines: int = 5) -> str:
        """The last lines the host's console printed (for error messages)."""
        try:
            text = (self.directory / "console.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def remove(self) -> None:
        """Unmount the host's disk and delete its directory (the host must be stopped)."""
        if self.mounted():
            result = run("umount", str(self.root), check=False)
            if result.returncode != 0:
                run("umount", "--lazy", str(self.root))
        if self.mounted():
            raise LabError(f"{self.name}: cannot unmount {self.root}")
        shutil.rmtree(self.directory, ignore_errors=True)
        cgroups.remove(self.name)
        # nspawn leaves a propagation directory behind for each machine it ran.
        shutil.rmtree(Path("/run/systemd/nspawn/propagate") / self.name, ignore_errors=True)


def mounted_paths() -> set[str]:
    """Every mount point on the controller."""
    points = set()
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        # Octal escapes (\040 for a space) are how mountinfo writes odd characters.
        points.add(line.split()[4].encode().decode("unicode_escape"))
    return points
