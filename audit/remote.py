"""Commands on a target over SSH (Fabric), with the inventory's key and strict host keys."""

from __future__ import annotations

import paramiko
from fabric import Connection

from audit.targets import Target


def connect(target: Target, timeout: float = 10) -> Connection:
    """A Fabric connection that trusts only the inventory's known_hosts."""
    connection = Connection(target.address, user=target.ssh_user, port=target.ssh_port, connect_timeout=timeout,
                            connect_kwargs={"key_filename": target.ssh_key, "look_for_keys": not target.ssh_key,
                                            "allow_agent": not target.ssh_key})
    if target.known_hosts:
        connection.client.load_host_keys(target.known_hosts)
    connection.client.set_missing_host_key_policy(paramiko.RejectPolicy())
    return connection


def sudo(target: Target, command: str, timeout: float = 600) -> str:
    """Run ``command`` as root on the target (sudo without a password); its standard output.

    Raises RuntimeError naming the host and the command's error when it fails.
    """
    with connect(target) as connection:
        result = connection.sudo(command, hide=True, warn=True, timeout=timeout, pty=False)
    if result.exited != 0:
        raise RuntimeError(f"{target.name}: `{command}` exited {result.exited}: "
                           f"{(result.stderr or result.stdout).strip()[-400:]}")
    return result.stdout
