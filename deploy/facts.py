"""Facts the deploys need that pyinfra does not ship."""

from __future__ import annotations

from pyinfra.api import FactBase


class Container(FactBase):
    """The container technology the host runs in (``systemd-nspawn``, ``lxc``...), or ``none``."""

    def command(self) -> str:
        return "systemd-detect-virt --container || true"

    def process(self, output) -> str:
        return (output[0].strip() if output else "") or "none"


class SshClientAddress(FactBase):
    """The address the host sees our SSH connection coming from (first field of SSH_CONNECTION)."""

    # sudo would clear SSH_CONNECTION, so the fact runs as the login user.
    def command(self) -> str:
        return 'echo "${SSH_CONNECTION%% *}"'

    def process(self, output) -> str:
        return output[0].strip() if output else ""
