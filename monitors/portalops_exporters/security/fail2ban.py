"""fail2ban 1.0's bans and unbans: its log file (Debian's ``logtarget = /var/log/fail2ban.log``)
or, when it logs to the journal, its messages there.

    2026-03-02 10:15:42,117 fail2ban.actions        [812]: NOTICE  [sshd] Ban 198.18.7.9
    2026-03-02 11:15:42,340 fail2ban.actions        [812]: NOTICE  [sshd] Unban 198.18.7.9
    2026-03-02 12:00:03,002 fail2ban.actions        [812]: NOTICE  [sshd] Restore Ban 198.18.7.9

"Increase Ban" lines (bantime.increment) repeat a ban already counted and are not counted.
A jail the deploy did not list counts as ``other``: jail names come from configuration,
but the label stays bounded whatever is configured.
"""

from __future__ import annotations

import re
from typing import Iterable

from portalops_exporters.security.events import Event

_ACTION = re.compile(r"NOTICE\s+\[([^\]\s]{1,64})\] (Restore )?(Ban|Unban) \S+\s*$")
# In the journal the logger's name and level may be left out: only the action's own words are required.
_MESSAGE = re.compile(r"(?:^|\s)\[([^\]\s]{1,64})\] (Restore )?(Ban|Unban) \S+\s*$")
_FILE_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} fail2ban\.actions\s*\[\d+\]: ")


class Fail2ban:
    """Parses fail2ban's lines into ``fail2ban_actions`` events for the deploy's jails."""

    def __init__(self, jails: Iterable[str]):
        self.jails = frozenset(jails)

    def _events(self, match: re.Match) -> list[Event]:
        jail = match[1] if match[1] in self.jails else "other"
        action = "restore" if match[2] else match[3].lower()
        return [("fail2ban_actions", (jail, action))]

    def file_line(self, line: str) -> list[Event]:
        """A line of /var/log/fail2ban.log."""
        prefix = _FILE_LINE.match(line)
        if not prefix:
            return []
        match = _ACTION.match(line, prefix.end())
        return self._events(match) if match else []

    def message(self, message: str) -> list[Event]:
        """A journal message of fail2ban (``fail2ban.actions [812]: NOTICE [sshd] Ban ...`` or ``[sshd] Ban ...``)."""
        match = _MESSAGE.search(message)
        return self._events(match) if match else []
