"""ModSecurity (libmodsecurity 3 with the OWASP CRS 3.3, Debian 12): the requests it denied and
the rules that matched, by rule family.

The audit log (``SecAuditLog /var/log/nginx/modsec_audit.log``, Debian's native serial
format, parts ABIJDEFHZ) is the source that names the attack: part H lists every rule
that matched, the attack rules (942100: SQL injection...) before the anomaly-score rule
(949110) that denies. nginx's error log holds the denial alone (libmodsecurity gives
nginx the other messages at ``info`` level, below Debian's ``error_log`` level), so read
from there a block is mostly ``anomaly_inbound``; it is the fallback when no audit log
is kept.

    ---Kq3XbWfH---H--
    ModSecurity: Warning. detected SQLi using libinjection. [file "/usr/share/modsecurity-crs/rules/REQUEST-942-APPLICATION-ATTACK-SQLI.conf"] [line "65"] [id "942100"] ...
    ModSecurity: Access denied with code 403 (phase 2). Matched "Operator `Ge' ..." [file "..."] [line "81"] [id "949110"] ...
"""

from __future__ import annotations

import re

from portalops_exporters.security.events import Event

# CRS rule ids are FFFnnn: FFF is the rule file, which is the family.
_CRS_FILES = {911: "method_enforcement", 913: "scanner_detection", 920: "protocol_enforcement",
              921: "protocol_attack", 922: "multipart_attack", 930: "lfi", 931: "rfi", 932: "rce", 933: "php",
              934: "generic", 941: "xss", 942: "sqli", 943: "session_fixation", 944: "java", 949: "anomaly_inbound",
              950: "data_leakage", 951: "data_leakage", 952: "data_leakage", 953: "data_leakage",
              954: "data_leakage", 955: "data_leakage", 959: "anomaly_outbound", 980: "correlation"}
# Rules that add up or report scores: they name no attack of their own.
_SCORING = frozenset({"anomaly_inbound", "anomaly_outbound", "correlation", "other"})
# The rule's own fields follow the message: [file "..."] [line "N"] [id "N"]. Anchoring on
# "[line" keeps an [id "..."] a client wrote into the matched value from being read first.
_RULE_ID = re.compile(r'\[line "\d+"\] \[id "(\d{1,9})"\]')
_BOUNDARY = re.compile(r"-{2,3}([A-Za-z0-9]{4,64})-{1,3}([A-Z])--\s*$")
_ERROR_LINE = re.compile(r"\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[\w+\] \d+#\d+: (?:\*\d+ )?(?:\[client [^\]]{1,64}\] )?"
                         r"ModSecurity: Access denied with code \d+")


def family(message: str) -> str:
    """The CRS family of the rule a ModSecurity message names, or ``other``."""
    match = _RULE_ID.search(message)
    return _CRS_FILES.get(int(match[1]) // 1000, "other") if match else "other"


def error_line(line: str) -> list[Event]:
    """A denial in nginx's error log (the fallback source of ``waf_blocks``)."""
    return [("waf_blocks", (family(line),))] if _ERROR_LINE.match(line) else []


class AuditLog:
    """Reads the audit log line by line: which section of which transaction it is in, and the
    first attack family that transaction's part H named."""

    def __init__(self):
        self.transaction: str | None = None
        self.section: str | None = None
        self.attack: str | None = None

    def line(self, line: str) -> list[Event]:
        """The events one audit-log line records: a rule match, and a block when it is the denial."""
        if line.startswith("--") and (boundary := _BOUNDARY.match(line)):
            if boundary[1] != self.transaction:
                self.transaction, self.attack = boundary[1], None
            self.section = boundary[2]
            return []
        if self.section != "H" or not line.startswith("ModSecurity: "):
            return []
        rule = family(line)
        events: list[Event] = [("waf_rule_matches", (rule,))]
        if line.startswith("ModSecurity: Access denied"):
            events.append(("waf_blocks", (self.attack or rule,)))
        elif self.attack is None and rule not in _SCORING:
            self.attack = rule
        return events
