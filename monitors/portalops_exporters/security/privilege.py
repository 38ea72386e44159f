"""sudo (1.9) and su (util-linux 2.38) lines, as the journal holds them (identifiers ``sudo``, ``su``).

    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx
    alice : 3 incorrect password attempts ; TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id
    (to root) alice on pts/0
    FAILED SU (to root) alice on pts/0

PAM's own lines from the same programs (``pam_unix(sudo:session): session opened...``)
are not counted: sudo's line already records the command.
"""

from __future__ import annotations

import re

from portalops_exporters.security.events import Event

# sudo's log line: "user : [reason ; ]KEY=value ; ... ; COMMAND=...". A reason has no "=",
# which tells it from the KEY=value fields (TTY=, PWD=, USER=...).
_SUDO = re.compile(r"\s*\S+ : (?:([^;=]+?) ; )?(?:\w+=.* ; )?COMMAND=")
_REASONS = (("incorrect password attempt", "incorrect_password"), ("NOT in sudoers", "not_in_sudoers"),
            ("command not allowed", "command_not_allowed"), ("a password is required", "password_required"))
_SU = re.compile(r"(FAILED SU )?\(to \S+\) \S+ on \S+$")


def sudo(message: str) -> list[Event]:
    """A command sudo ran, or one it refused and why."""
    match = _SUDO.match(message)
    if not match:
        return []
    reason = match[1]
    if reason is None:
        return [("sudo_commands", ())]
    label = next((label for text, label in _REASONS if text in reason), "other")
    return [("sudo_failures", (label,))]


def su(message: str) -> list[Event]:
    """An su that worked or failed."""
    match = _SU.match(message)
    if not match:
        return []
    return [("su", ("failure" if match[1] else "success",))]
