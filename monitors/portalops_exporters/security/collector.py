"""The security-events collector: every source read at scrape time, counts saved with positions."""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping, Sequence

from prometheus_client.core import GaugeMetricFamily, Metric

from portalops_exporters.security import modsecurity, nginx, state
from portalops_exporters.security.events import PREFIX, Event, Tally, counters
from portalops_exporters.security.fail2ban import Fail2ban
from portalops_exporters.security.integrity import DEFAULT_GROUPS, Integrity
from portalops_exporters.security.journal import Journal
from portalops_exporters.security.logfile import Batch, LogFile
from portalops_exporters.security.ports import PortDrift
from portalops_exporters.security.programs import Programs
from portalops_exporters.security.updates import SECURITY_UPGRADES, PendingUpdates

NAME = "portalops_security"
STATE_FILE = "positions.json"
BASELINE_FILE = "integrity-baseline.json"


@dataclass
class _LogSource:
    """A log file, the ``source`` label it counts under, and the parser of its lines."""

    source: str
    log: LogFile
    parse: Callable[[str], list[Event]]


class SecurityCollector:
    """Security events of one host, for Prometheus (``portalops_security_*``).

    Counts what the host's logs record (SSH logins, sudo, su, account changes, fail2ban,
    ModSecurity, attack signatures and status classes in nginx's access log, the portal's
    refusals), and reports file integrity, listening-port drift, pending security updates
    and a required reboot. Logs are read at scrape time from where the last scrape
    stopped; counts and positions are saved together in ``state_dir`` after each scrape,
    so a restart goes on from there: no line counted twice, none written meanwhile lost,
    counters continue instead of resetting. On the very first start (no saved state)
    reading begins at the end of every log: history before the exporter is not counted.

    Every option is a JSON value (the deploy writes them into the exporter's config):

    + journal: read the systemd journal (sshd, sudo, su, account tools, fail2ban, the portal's units)
    + journalctl: journalctl's command line, e.g. ``["journalctl", "--directory=/srv/copied-journal"]``
    + portal_units: systemd units whose output is the portal's JSON log (``dichvucong.security`` lines)
    + auth_log: a syslog file with the same programs (rsyslog's /var/log/auth.log); None: not read.
      Set it only on a host without the journal source, or each event counts twice
    + nginx_access_log: nginx's access log (combined format); None: not read
    + modsec_audit_log: ModSecurity's audit log (native serial format), the source of WAF blocks;
      None: WAF blocks come from ``nginx_error_log`` instead
    + nginx_error_log: read for ModSecurity denials only when ``modsec_audit_log`` is None
    + fail2ban_log: fail2ban's log file; None: not read
    + fail2ban_jails: the jails the deploy configures (label values; any other jail counts as ``other``)
    + integrity: group name -> paths, directories or globs to watch ({} watches nothing)
    + integrity_rehash_seconds: how often every watched file is read again, metadata unchanged or not
    + expected_ports: TCP ports the host's role listens on; None: no port check
    + ignore_loopback_listeners: loopback-only listeners are neither unexpected nor enough to be listening
    + updates_command: shell command listing pending security updates, one a line; None: not counted
    + updates_refresh_seconds: how old the pending-updates count may get (it is slow to take)
    + reboot_required_file: the file whose presence means a reboot is required
    + state_dir: where counts, positions and the integrity baseline are kept (under the unit's
      StateDirectory); None: in memory only (then a restart starts again at the end of every log,
      counters at 0, a new baseline). A state_dir the exporter cannot write fails the scrape
      (``portalops_security_up`` 0), so that counts which would not survive a restart are seen
    + max_line_bytes: longer lines are skipped (and counted in ``log_lines_skipped_total``)
    """

    def __init__(self, *, journal: bool = True, journalctl: Sequence[str] = ("journalctl",),
                 portal_units: Sequence[str] = ("dichvucong-web.service",), auth_log: str | None = None,
                 nginx_access_log: str | None = "/var/log/nginx/access.log",
                 modsec_audit_log: str | None = "/var/log/nginx/modsec_audit.log",
                 nginx_error_log: str | None = "/var/log/nginx/error.log",
                 fail2ban_log: str | None = "/var/log/fail2ban.log", fail2ban_jails: Sequence[str] = ("sshd",),
                 integrity: Mapping[str, Sequence[str]] | None = None, integrity_rehash_seconds: float = 3600,
                 expected_ports: Sequence[int] | None = (22, 9100), ignore_loopback_listeners: bool = True,
                 updates_command: str | None = SECURITY_UPGRADES, updates_refresh_seconds: float = 3600,
                 reboot_required_file: str = "/run/reboot-required",
                 state_dir: str | None = "/var/lib/portalops-exporter/security", max_line_bytes: int = 65536):
        self._lock = threading.Lock()  # scrapes may come two at a time (threading server)
        self.state_file = os.path.join(state_dir, STATE_FILE) if state_dir else None
        saved = state.load(self.state_file)
        self._saved_text = None
        positions = (saved or {}).get("logs", {})
        self.tally = Tally(counters(fail2ban_jails), (saved or {}).get("counters"))
        self.programs = Programs(Fail2ban(fail2ban_jails), portal_units)

        def log(path: str) -> LogFile:
            # A source new to a saved state starts at its end too: its past was never counted.
            return LogFile(path, max_line_bytes=max_line_bytes, saved=positions.get(path))

        waf = (("modsec_audit", modsec_audit_log, modsecurity.AuditLog().line) if modsec_audit_log
               else ("nginx_error", nginx_error_log, modsecurity.error_line))
        self.logs = [_LogSource(source, log(path), parse) for source, path, parse in (
            ("auth_log", auth_log, self.programs.syslog_line),
            ("nginx_access", nginx_access_log, nginx.access_line),
            waf,
            ("fail2ban", fail2ban_log, self.programs.fail2ban_line),
        ) if path]
        self.journal = Journal(self.programs.identifiers, portal_units, command=journalctl,
                               saved=(saved or {}).get("journal")) if journal else None
        groups = DEFAULT_GROUPS if integrity is None else integrity
        self.integrity = Integrity(groups, os.path.join(state_dir, BASELINE_FILE) if state_dir else None,
                                   integrity_rehash_seconds) if groups else None
        self.ports = PortDrift(expected_ports, ignore_loopback_listeners) if expected_ports is not None else None
        self.updates = PendingUpdates(updates_command, updates_refresh_seconds, reboot_required_file)

    def collect(self) -> Iterable[Metric]:
        """Read what is new in every source, save the counts with the positions, and report."""
        with self._lock:
            readable = GaugeMetricFamily(f"{PREFIX}_log_readable",
                                         "1 if the source could be read at this scrape, 0 if it is missing or "
                                         "not readable by the exporter's user.", labels=["source"])
            for source in self.logs:
                batch = source.log.read()
                self._count(source, batch)
                readable.add_metric([source.source], 1.0 if batch.readable else 0.0)
            if self.journal is not None:
                readable.add_metric(["journal"], 1.0 if self._read_journal() else 0.0)
            self._save()
            families: list[Metric] = [*self.tally.families(), readable]
            for part in (self.integrity, self.ports, self.updates):
                if part is not None:
                    families.extend(part.collect())
        return families

    def close(self) -> None:
        """Close the log files held open."""
        for source in self.logs:
            source.log.close()

    def _count(self, source: _LogSource, batch: Batch) -> None:
        tally, parse, label = self.tally, source.parse, (source.source,)
        counts = tally.counts
        for line in batch.lines:
            for name, values in parse(line.decode("utf-8", "replace")):
                counts[name][values] += 1
        tally.add("log_lines", label, len(batch.lines))
        tally.add("log_lines_skipped", label, batch.skipped)
        tally.add("log_restarts", (source.source, "rotated"), batch.rotated)
        tally.add("log_restarts", (source.source, "truncated"), batch.truncated)

    def _read_journal(self) -> bool:
        batch = self.journal.read()
        for entry in batch.entries:
            self.tally.add_all(self.programs.entry(*entry))
        self.tally.add("log_lines", ("journal",), len(batch.entries))
        self.tally.add("log_restarts", ("journal", "cursor_lost"), 1 if batch.cursor_lost else 0)
        return batch.readable

    def _save(self) -> None:
        if self.state_file is None:
            return
        data = {"version": 1, "counters": self.tally.saved(),
                "logs": {source.log.path: source.log.position() for source in self.logs},
                "journal": self.journal.position() if self.journal else None}
        text = json.dumps(data, sort_keys=True)
        if text != self._saved_text:  # a quiet host writes nothing
            state.save(self.state_file, data)
            self._saved_text = text
