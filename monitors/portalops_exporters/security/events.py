"""The security events the exporter counts: each counter's name, help, labels and label values.

Every label value is one of a fixed set written here (or the deploy's own list of
fail2ban jails), never a value taken from a log line: a user name, an address or a
path typed by a client would give Prometheus a series per attacker. Every series of
the sets exists from the first scrape at 0, so ``increase()`` sees the first event.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product
from typing import Iterable

from prometheus_client.core import CounterMetricFamily

PREFIX = "portalops_security"

SSH_METHODS = ("password", "publickey", "keyboard-interactive", "hostbased", "gssapi-with-mic", "none", "other")
SUDO_FAILURE_REASONS = ("incorrect_password", "not_in_sudoers", "command_not_allowed", "password_required", "other")
ACCOUNT_CHANGES = ("user_added", "user_modified", "user_deleted", "group_added", "group_modified", "group_deleted",
                   "membership_changed", "password_changed")
FAIL2BAN_ACTIONS = ("ban", "unban", "restore")
# ModSecurity rule families, named after the OWASP CRS rule files (REQUEST-942-APPLICATION-ATTACK-SQLI...).
WAF_FAMILIES = ("method_enforcement", "scanner_detection", "protocol_enforcement", "protocol_attack",
                "multipart_attack", "lfi", "rfi", "rce", "php", "generic", "xss", "sqli", "session_fixation",
                "java", "anomaly_inbound", "data_leakage", "anomaly_outbound", "correlation", "other")
SIGNATURES = ("sql_injection", "path_traversal", "xss", "command_injection", "jndi_injection",
              "sensitive_file_probe", "scanner")
STATUS_CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx")
PORTAL_EVENTS = ("payment_signature_invalid", "sync_token_invalid", "sync_unknown_sender", "sync_foreign_unit",
                 "officer_outside_unit", "attachment_access_refused", "suppressed", "other")
SOURCES = ("journal", "auth_log", "nginx_access", "nginx_error", "modsec_audit", "fail2ban")
RESTARTS = ("rotated", "truncated", "cursor_lost")


@dataclass(frozen=True)
class Counter:
    """One counter family: its name without prefix and ``_total``, help, labels and their values."""

    name: str
    documentation: str
    labels: tuple[str, ...] = ()
    values: tuple[tuple[str, ...], ...] = ()

    def series(self) -> Iterable[tuple[str, ...]]:
        """Every label-value combination this counter exports."""
        return product(*self.values) if self.labels else [()]


def counters(fail2ban_jails: Iterable[str]) -> dict[str, Counter]:
    """The counters of one exporter, keyed by name; ``fail2ban_jails`` is the deploy's list (plus ``other``)."""
    jails = tuple(dict.fromkeys([*fail2ban_jails, "other"]))
    table = [
        Counter("ssh_auth", "SSH authentications by result (success, failure) and method, from sshd's "
                "Accepted/Failed lines.", ("result", "method"), (("success", "failure"), SSH_METHODS)),
        Counter("ssh_invalid_users", "SSH connections naming a user that does not exist (sshd \"Invalid user\")."),
        Counter("ssh_users_not_allowed", "SSH logins refused by AllowGroups/AllowUsers or DenyUsers/DenyGroups."),
        Counter("sudo_commands", "Commands sudo ran."),
        Counter("sudo_failures", "Commands sudo refused, by reason.", ("reason",), (SUDO_FAILURE_REASONS,)),
        Counter("su", "su to another user, by result.", ("result",), (("success", "failure"),)),
        Counter("account_changes", "Accounts and groups added, changed or removed (useradd, usermod, userdel, "
                "groupadd, groupmod, groupdel, gpasswd, passwd, chpasswd, chage, chfn, chsh), one per change.",
                ("change",), (ACCOUNT_CHANGES,)),
        Counter("fail2ban_actions", "fail2ban bans, unbans and bans restored at its start, by jail.",
                ("jail", "action"), (jails, FAIL2BAN_ACTIONS)),
        Counter("waf_blocks", "Requests ModSecurity denied, by the rule family that flagged them first.",
                ("family",), (WAF_FAMILIES,)),
        Counter("waf_rule_matches", "ModSecurity rule matches (warnings and denials) in its audit log, by family.",
                ("family",), (WAF_FAMILIES,)),
        Counter("http_attack_requests", "Requests in nginx's access log that carry an attack signature, by "
                "signature (a request with two signatures counts once in each).", ("signature",), (SIGNATURES,)),
        Counter("http_responses", "Responses in nginx's access log, by status class.", ("status_class",),
                (STATUS_CLASSES,)),
        Counter("portal_refusals", "Requests the portal refused as a security event (its dichvucong.security log), "
                "by event.", ("event",), (PORTAL_EVENTS,)),
        Counter("log_lines", "Lines (journal entries) read, by source.", ("source",), (SOURCES,)),
        Counter("log_lines_skipped", "Lines skipped for being longer than max_line_bytes, by source.",
                ("source",), (SOURCES,)),
        Counter("log_restarts", "Times a source started again: file rotated, file truncated, or journal "
                "cursor no longer found.", ("source", "kind"), (SOURCES, RESTARTS)),
    ]
    return {counter.name: counter for counter in table}


Event = tuple[str, tuple[str, ...]]
"""(counter name, label values): what a parser returns for one thing that happened."""


class Tally:
    """The counts of every counter's series; plain data, so they persist with the log positions."""

    def __init__(self, catalogue: dict[str, Counter], saved: dict | None = None):
        self.catalogue = catalogue
        self.counts: dict[str, dict[tuple[str, ...], float]] = {
            name: {values: 0.0 for values in counter.series()} for name, counter in catalogue.items()}
        for name, rows in (saved or {}).items():
            for *values, count in rows if name in self.counts else []:
                if tuple(values) in self.counts[name]:  # a series this version no longer exports is dropped
                    self.counts[name][tuple(values)] = float(count)

    def add(self, name: str, values: tuple[str, ...] = (), amount: float = 1.0) -> None:
        """Count ``amount`` events of one series."""
        self.counts[name][values] += amount

    def add_all(self, events: Iterable[Event]) -> None:
        """Count one of each event."""
        counts = self.counts
        for name, values in events:
            counts[name][values] += 1

    def saved(self) -> dict:
        """The counts as JSON data (non-zero series only), for :meth:`__init__`'s ``saved``."""
        return {name: [[*values, count] for values, count in series.items() if count]
                for name, series in self.counts.items()}

    def families(self) -> Iterable[CounterMetricFamily]:
        """One counter family per counter, every series included."""
        for name, counter in self.catalogue.items():
            family = CounterMetricFamily(f"{PREFIX}_{name}", counter.documentation, labels=counter.labels)
            for values, count in self.counts[name].items():
                family.add_metric(list(values), count)
            yield family
