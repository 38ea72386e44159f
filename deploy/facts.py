"""Facts the deploys need that pyinfra does not ship."""

from __future__ import annotations

import json

from portalops_exporters.security.updates import SECURITY_UPGRADES
from pyinfra.api import FactBase


class Container(FactBase):
    """The container technology the host runs in (``systemd-nspawn``, ``lxc``...), or ``none``."""

    def command(self) -> str:
        return "systemd-detect-virt --container || true"

    def process(self, output) -> str:
        return (output[0].strip() if output else "") or "none"


# Packages ``apt-get upgrade`` would take from a security suite, one a line: the same
# reading as Lynis's PKGS-7392 and the security exporter's pending-updates gauge (defined there).


class SecurityUpgrades(FactBase):
    """Names of the installed packages with an update waiting from a security suite."""

    def command(self) -> str:
        return SECURITY_UPGRADES

    def process(self, output) -> list[str]:
        return [line.strip() for line in output if line.strip()]


class SshClientAddress(FactBase):
    """The address the host sees our SSH connection coming from (first field of SSH_CONNECTION)."""

    # sudo would clear SSH_CONNECTION, so the fact runs as the login user.
    def command(self) -> str:
        return 'echo "${SSH_CONNECTION%% *}"'

    def process(self, output) -> str:
        return output[0].strip() if output else ""


def backups_command(stanza: str, repo: int) -> str:
    """The command whose output :func:`backup_count` reads."""
    return f"cd / && pgbackrest --stanza={stanza} --repo={repo} --output=json info 2>/dev/null || true"


def backup_count(output: list[str]) -> int | None:
    """Backups in ``pgbackrest info --output=json``'s output for one stanza and repository, or
    None if pgBackRest or the stanza is not there (yet) or the repository cannot be reached."""
    try:
        stanzas = json.loads("\n".join(output))
    except ValueError:
        return None
    if not stanzas or stanzas[0].get("status", {}).get("code") not in (0, 2):  # 2: no backup yet
        return None
    return len(stanzas[0].get("backup", []))


class PgBackRestBackups(FactBase):
    """How many backups of ``stanza`` repository ``repo`` holds (see :func:`backup_count`)."""

    def command(self, stanza: str, repo: int) -> str:
        return backups_command(stanza, repo)

    def process(self, output) -> int | None:
        return backup_count(output)


class ExpiredAccounts(FactBase):
    """Names of the accounts whose expiry date has passed (shadow's eighth field, in days)."""

    def command(self) -> str:
        return ("today=$(( $(date +%s) / 86400 )); "
                "getent shadow | awk -F: -v today=$today '$8 != \"\" && $8 <= today {print $1}'")

    def process(self, output) -> list[str]:
        return [line.strip() for line in output if line.strip()]
