"""The journal source, on real journal files: systemd-journal-remote writes entries in the
journal's export format into a file (no root, no journald), and the real journalctl reads
it with ``--directory``, exactly as the exporter runs it on a host."""

import os
import shutil
import struct

import pytest

from portalops_exporters.security.collector import SecurityCollector
from portalops_exporters.security.journal import Journal, matches

JOURNAL_REMOTE = "/lib/systemd/systemd-journal-remote"
needs_journal_tools = pytest.mark.skipif(
    not (os.access(JOURNAL_REMOTE, os.X_OK) and shutil.which("journalctl")),
    reason="needs journalctl and systemd-journal-remote (apt-get install systemd-journal-remote)")
BOOT = "0123456789abcdef0123456789abcdef"


class JournalFile:
    """A journal file in a directory, appended to entry by entry as journald would."""

    def __init__(self, directory):
        self.directory = directory
        self.serial = 0

    def append(self, *entries):
        """Each entry: (SYSLOG_IDENTIFIER or None, _SYSTEMD_UNIT or None, MESSAGE as str or bytes)."""
        export = b""
        for identifier, unit, message in entries:
            self.serial += 1
            fields = [f"__REALTIME_TIMESTAMP={1_772_400_000_000_000 + self.serial * 1000}",
                      f"__MONOTONIC_TIMESTAMP={self.serial}", f"_BOOT_ID={BOOT}"]
            fields += [f"SYSLOG_IDENTIFIER={identifier}"] if identifier else []
            fields += [f"_SYSTEMD_UNIT={unit}"] if unit else []
            export += "".join(field + "\n" for field in fields).encode()
            data = message.encode() if isinstance(message, str) else message
            if b"\n" in data or not isinstance(message, str):  # the export format's binary field
                export += b"MESSAGE\n" + struct.pack("<Q", len(data)) + data + b"\n"
            else:
                export += b"MESSAGE=" + data + b"\n"
            export += b"\n"
        source = os.path.join(self.directory, "entries.export")
        with open(source, "wb") as file:
            file.write(export)
        result = os.system(f"{JOURNAL_REMOTE} --output={self.directory}/system.journal {source} 2>/dev/null")
        assert result == 0

    @property
    def command(self):
        return ["journalctl", f"--directory={self.directory}"]


SSH_FAILURE = ("sshd", "ssh.service", "Failed password for root from 198.18.5.7 port 40022 ssh2")
SUDO = ("sudo", None, "alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id")
PORTAL = ("dichvucong", "dichvucong-web.service",
          '{"ts": "2026-03-02T03:15:42.117Z", "log": "security", "level": "info", '
          '"msg": "payment callback with a bad checksum refused", "order_id": "17-9f2c01aa55be"}')
CRON = ("CRON", "cron.service", "(root) CMD (run-parts --report /etc/cron.hourly)")


def test_matches_select_the_programs_or_the_units():
    assert matches(["sshd", "sudo"], ["dichvucong-web.service"]) == [
        "SYSLOG_IDENTIFIER=sshd", "SYSLOG_IDENTIFIER=sudo", "+", "_SYSTEMD_UNIT=dichvucong-web.service"]
    assert matches(["sshd"], []) == ["SYSLOG_IDENTIFIER=sshd"]


@needs_journal_tools
def test_first_read_starts_at_the_end_then_each_new_entry_comes_once(tmp_path):
    journal_file = JournalFile(tmp_path)
    journal_file.append(SSH_FAILURE, SUDO)
    journal = Journal(["sshd", "sudo"], ["dichvucong-web.service"], command=journal_file.command)
    assert journal.read().entries == []
    journal_file.append(SSH_FAILURE, CRON, PORTAL)
    batch = journal.read()
    assert [(entry.identifier, entry.message) for entry in batch.entries] == [SSH_FAILURE[::2], PORTAL[::2]]
    assert journal.read().entries == []


@needs_journal_tools
def test_saved_cursor_resumes_after_the_last_entry_read_across_a_restart(tmp_path):
    journal_file = JournalFile(tmp_path)
    journal_file.append(CRON)
    journal = Journal(["sshd"], command=journal_file.command)
    journal.read()
    journal_file.append(SSH_FAILURE)
    assert len(journal.read().entries) == 1
    saved = journal.position()
    journal_file.append(SSH_FAILURE, SSH_FAILURE)
    again = Journal(["sshd"], command=journal_file.command, saved=saved)
    assert len(again.read().entries) == 2


@needs_journal_tools
def test_empty_journal_at_the_start_is_read_from_its_beginning_later(tmp_path):
    journal_file = JournalFile(tmp_path)
    journal = Journal(["sshd"], command=journal_file.command)
    assert journal.read().readable
    journal_file.append(SSH_FAILURE)
    assert len(journal.read().entries) == 1


@needs_journal_tools
def test_binary_and_multiline_messages_are_read_without_error(tmp_path):
    journal_file = JournalFile(tmp_path)
    journal_file.append(CRON)
    journal = Journal(["sshd"], command=journal_file.command)
    journal.read()
    journal_file.append(("sshd", None, b"\xff\xfe\x00 not text"), ("sshd", None, "two\nlines"), SSH_FAILURE)
    messages = [entry.message for entry in journal.read().entries]
    assert messages == ["\ufffd\ufffd\x00 not text", "two\nlines", SSH_FAILURE[2]]


@needs_journal_tools
def test_cursor_journalctl_cannot_use_starts_again_at_the_end_and_is_counted(tmp_path):
    journal_file = JournalFile(tmp_path)
    journal_file.append(SSH_FAILURE)
    journal = Journal(["sshd"], command=journal_file.command, saved={"cursor": "not-a-cursor"})
    batch = journal.read()
    assert (batch.entries, batch.cursor_lost, batch.readable) == ([], True, True)
    journal_file.append(SSH_FAILURE)
    assert len(journal.read().entries) == 1


def test_missing_journalctl_makes_the_journal_unreadable_not_the_scrape_fail(tmp_path):
    journal = Journal(["sshd"], command=[str(tmp_path / "no-journalctl")], saved={"cursor": None})
    assert journal.read().readable is False


def test_journalctl_that_shows_only_the_users_own_entries_marks_the_journal_unreadable(tmp_path):
    fake = tmp_path / "journalctl"
    fake.write_text("#!/bin/sh\necho 'Hint: You are currently not seeing messages from other users and the system.' >&2\n")
    fake.chmod(0o755)
    journal = Journal(["sshd"], command=[str(fake)], saved={"cursor": None})
    assert journal.read().readable is False


@needs_journal_tools
def test_collector_counts_journal_events_once_across_a_restart(tmp_path):
    journal_file = JournalFile(tmp_path / "journal")
    (tmp_path / "journal").mkdir()
    journal_file.append(CRON)
    options = dict(journalctl=journal_file.command, nginx_access_log=None, modsec_audit_log=None,
                   nginx_error_log=None, fail2ban_log=None, integrity={}, expected_ports=None, updates_command=None,
                   state_dir=str(tmp_path / "state"))

    def counts(collector):
        collector.collect()
        tally = collector.tally.counts
        return (tally["ssh_auth"][("failure", "password")], tally["sudo_commands"][()],
                tally["portal_refusals"][("payment_signature_invalid",)])

    collector = SecurityCollector(**options)
    assert counts(collector) == (0, 0, 0)
    journal_file.append(SSH_FAILURE, SUDO, PORTAL, CRON)
    assert counts(collector) == (1, 1, 1)
    journal_file.append(SSH_FAILURE)
    restarted = SecurityCollector(**options)
    assert counts(restarted) == (2, 1, 1)
    assert counts(restarted) == (2, 1, 1)
