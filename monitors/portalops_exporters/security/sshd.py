"""sshd's authentication lines (OpenSSH 9.2, Debian 12), as the journal holds them (identifier ``sshd``).

    Accepted publickey for alice from 198.18.0.10 port 51234 ssh2: ED25519 SHA256:...
    Failed password for invalid user admin from 198.18.5.7 port 40022 ssh2
    Invalid user admin from 198.18.5.7 port 40022
    User bob from 198.18.0.11 not allowed because none of user's groups are listed in AllowGroups

A user name may hold spaces (sshd logs what the client sent), so each pattern anchors on
the text sshd writes around it; nothing of the name or the address is kept.
"""

from __future__ import annotations

import re

from portalops_exporters.security.events import SSH_METHODS, Event

# OpenSSH's auth_log(): "%s %s%s%s for %s%.100s from %.200s port %d ssh2%s%s".
_AUTH = re.compile(r"(Accepted|Failed) ([\w@.-]+)(?:/[\w@.-]+)? for .* from \S+ port \d+ ssh2(?::|$)")
_INVALID = re.compile(r"Invalid user .* from \S+ port \d+$")
_NOT_ALLOWED = re.compile(r"User .+ from \S+ not allowed because ")
_RESULTS = {"Accepted": "success", "Failed": "failure"}
_METHODS = frozenset(SSH_METHODS)


def parse(message: str) -> list[Event]:
    """The events one sshd message records (none for most of what sshd says)."""
    if match := _AUTH.match(message):
        method = match[2] if match[2] in _METHODS else "other"
        return [("ssh_auth", (_RESULTS[match[1]], method))]
    if _INVALID.match(message):
        return [("ssh_invalid_users", ())]
    if _NOT_ALLOWED.match(message):
        return [("ssh_users_not_allowed", ())]
    return []
