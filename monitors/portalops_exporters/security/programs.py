"""Which parser reads the lines of which program, wherever the line comes from: the journal
(identifier and message apart) or a syslog file such as rsyslog's /var/log/auth.log."""

from __future__ import annotations

import re
from typing import Callable, Iterable

from portalops_exporters.security import accounts, portal, privilege, sshd
from portalops_exporters.security.events import Event
from portalops_exporters.security.fail2ban import Fail2ban

# rsyslog's two file formats: traditional ("Mar  2 10:15:42") and RFC 3339 (Debian 12's default).
_SYSLOG = re.compile(r"(?:\w{3} [ \d]\d \d\d:\d\d:\d\d|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\S*) \S+ "
                     r"([\w.-]{1,64})(?:\[\d+\])?: (.*)")


class Programs:
    """The parsers of sshd, sudo, su, the account tools, fail2ban and the portal's units.

    + fail2ban: the fail2ban parser (it knows the deploy's jails)
    + portal_units: the systemd units whose output is the portal's JSON log
    """

    def __init__(self, fail2ban: Fail2ban, portal_units: Iterable[str] = ()):
        self.parsers: dict[str, Callable[[str], list[Event]]] = {
            "sshd": sshd.parse, "sudo": privilege.sudo, "su": privilege.su,
            "fail2ban-server": fail2ban.message, "fail2ban": fail2ban.message,
            **{program: (lambda message, program=program: accounts.parse(program, message))
               for program in accounts.PROGRAMS},
        }
        self.portal_units = frozenset(portal_units)
        self.fail2ban_line = fail2ban.file_line  # fail2ban's own log file

    @property
    def identifiers(self) -> list[str]:
        """The journal identifiers to read."""
        return list(self.parsers)

    def entry(self, identifier: str, unit: str, message: str) -> list[Event]:
        """The events of one journal entry."""
        parse = self.parsers.get(identifier)
        if parse is not None:
            return parse(message)
        if unit in self.portal_units:
            return portal.parse(message)
        return []

    def syslog_line(self, line: str) -> list[Event]:
        """The events of one line of a syslog file."""
        match = _SYSLOG.match(line)
        if not match:
            return []
        parse = self.parsers.get(match[1])
        return parse(match[2]) if parse is not None else []
