"""Units' states and automatic restarts, from ``systemctl show``.

``systemctl show`` asks systemd over D-Bus, which any user may do for these read-only
properties: the exporter needs no privilege for them, only the system bus socket. A glob
(``postgresql@*-main.service``) matches the units systemd has loaded.
"""

from __future__ import annotations

import subprocess

PROPERTIES = ("Id", "ActiveState", "NRestarts")
# systemd's ActiveState values (node_exporter's systemd collector uses the same set); a
# value from a later systemd is dropped rather than grow the label set unseen.
ACTIVE_STATES = ("active", "reloading", "inactive", "failed", "activating", "deactivating", "maintenance",
                 "refreshing")
TIMEOUT_SECONDS = 5


class SystemdUnavailable(Exception):
    """systemctl could not answer (no systemd, no system bus, or too slow)."""


def parse(text: str) -> list[dict[str, str]]:
    """``systemctl show`` output: one ``Key=Value`` block per unit, blocks apart by a blank line."""
    units, current = [], {}
    for line in [*text.splitlines(), ""]:
        if not line.strip():
            if current:
                units.append(current)
            current = {}
            continue
        key, _, value = line.partition("=")
        current[key] = value
    return units


def show(patterns: list[str], systemctl: list[str]) -> list[dict[str, str]]:
    """The Id, ActiveState and NRestarts of the units matching ``patterns``."""
    command = [*systemctl, "show", "--property=" + ",".join(PROPERTIES), "--", *patterns]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise SystemdUnavailable(f"{command[0]}: {error}") from error
    if result.returncode != 0:
        said = (result.stderr or result.stdout).strip()[:300] or "no message"
        raise SystemdUnavailable(f"{command[0]} show: exit status {result.returncode}: {said}")
    return parse(result.stdout)
