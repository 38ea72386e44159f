"""The operator's way into lab hosts: a generated key and a known_hosts file.

The key is generated once, mode 0600, in the state directory (outside the work
tree). Each host's SSH host key is made by the controller when the host is
created, so the operator checks host keys strictly from the first connection.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Iterable

from lab import settings
from lab.process import run


def ensure_operator_key() -> Path:
    """Generate the operator's ed25519 key unless it exists; return the private key's path."""
    settings.SSH_DIR.mkdir(parents=True, exist_ok=True)
    settings.SSH_DIR.chmod(0o700)
    key = settings.OPERATOR_KEY
    if not key.exists():
        run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "portalops-lab-operator", "-f", str(key))
    key.chmod(0o600)
    return key


def write_known_hosts(entries: Iterable[tuple[str, str, str]]) -> None:
    """Write known_hosts from (host name, address, public host key line) entries."""
    lines = [f"{address},{name} {' '.join(key.split()[:2])}" for name, address, key in entries]
    settings.KNOWN_HOSTS.write_text("\n".join(lines) + ("\n" if lines else ""))
    settings.KNOWN_HOSTS.chmod(0o600)


def write_ssh_config(hosts: Iterable[tuple[str, str]]) -> None:
    """Write an ssh_config naming each lab host, for ssh -F, Fabric and testinfra.

    + hosts: (host name, address) pairs
    """
    blocks = [f"Host {name}\n    HostName {address}\n" for name, address in hosts]
    blocks.append(
        "Host *\n"
        f"    User {settings.SSH_USER}\n"
        f"    IdentityFile {settings.OPERATOR_KEY}\n"
        f"    UserKnownHostsFile {settings.KNOWN_HOSTS}\n"
        "    StrictHostKeyChecking yes\n"
        "    IdentitiesOnly yes\n"
        "    LogLevel ERROR\n"
    )
    settings.SSH_CONFIG.write_text("\n".join(blocks))
    settings.SSH_CONFIG.chmod(0o600)


def ssh_options(timeout: int = 5) -> list[str]:
    """ssh options for lab hosts: the lab key, strict host keys, no password prompts."""
    return [
        "-i", str(settings.OPERATOR_KEY),
        "-o", f"UserKnownHostsFile={settings.KNOWN_HOSTS}",
        "-o", "StrictHostKeyChecking=yes",
        "-o", "IdentitiesOnly=yes",
        "-o", f"ConnectTimeout={timeout}",
        "-o", "LogLevel=ERROR",
    ]


def ssh_command(address: str, *command: str, batch: bool = True) -> list[str]:
    """The ssh command line that runs ``command`` on the lab host at ``address``."""
    batch_options = ["-o", "BatchMode=yes"] if batch else []
    return ["ssh", *ssh_options(), *batch_options, f"{settings.SSH_USER}@{address}", *command]


def run_on(address: str, *command: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run ``command`` on a lab host over SSH and return the finished process."""
    return subprocess.run(ssh_command(address, *command), capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def answers(address: str) -> bool:
    """True if the host at ``address`` accepts the operator's key over SSH."""
    try:
        return run_on(address, "true", timeout=15).returncode == 0
    except subprocess.TimeoutExpired:
        return False
