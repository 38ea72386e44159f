"""Security events of a host, for Prometheus: ``portalops_security_*`` (issue 5).

Counters (``_total``), read at scrape time from the systemd journal, nginx's logs,
ModSecurity's audit log and fail2ban's log, every label from a fixed set
(:mod:`.events`): SSH authentications, invalid and refused users, sudo and su, account
changes, fail2ban actions, WAF blocks and rule matches, attack signatures and status
classes of requests, the portal's refusals, and the reading itself (lines, skipped
lines, rotations). Gauges: file integrity per group of paths (:mod:`.integrity`),
listening-port drift (:mod:`.ports`), pending security updates and a required reboot
(:mod:`.updates`).

One module per log source parses its lines (:mod:`.sshd`, :mod:`.privilege`,
:mod:`.accounts`, :mod:`.fail2ban`, :mod:`.nginx`, :mod:`.modsecurity`, :mod:`.portal`);
:mod:`.logfile` and :mod:`.journal` read them from where the last scrape stopped;
:class:`SecurityCollector` puts it together.
"""

from portalops_exporters.security.collector import NAME, SecurityCollector

__all__ = ["NAME", "SecurityCollector"]
