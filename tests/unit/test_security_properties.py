"""Properties of the security exporter's parsers and log reading, on random and malformed input:
no parser raises, garbage counts nothing, labels stay in their fixed sets, and a log written
in any pieces, rotated or truncated at any moment, is counted exactly once."""

import os
import tempfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portalops_exporters.security import accounts, modsecurity, nginx, portal, privilege, sshd
from portalops_exporters.security.collector import SecurityCollector
from portalops_exporters.security.events import counters
from portalops_exporters.security.fail2ban import Fail2ban
from portalops_exporters.security.journal import text
from portalops_exporters.security.logfile import LogFile
from portalops_exporters.security.programs import Programs

CATALOGUE = counters(["sshd"])
FAIL2BAN = Fail2ban(["sshd"])
PROGRAMS = Programs(FAIL2BAN, ["dichvucong-web.service"])
PARSERS = [sshd.parse, privilege.sudo, privilege.su, FAIL2BAN.file_line, FAIL2BAN.message, nginx.access_line,
           modsecurity.error_line, portal.parse, PROGRAMS.syslog_line,
           *[(lambda line, program=program: accounts.parse(program, line)) for program in accounts.PROGRAMS]]

# Lines as the daemons write them, one per parser family (the valid ones the garbage is mixed with).
REAL_LINES = [
    "Mar  2 10:15:42 cong-h56 sshd[812]: Failed password for invalid user admin from 198.18.5.7 port 40022 ssh2",
    "Mar  2 10:15:43 cong-h56 sshd[812]: Invalid user admin from 198.18.5.7 port 40022",
    "Mar  2 10:15:44 cong-h56 sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id",
    "Mar  2 10:15:45 cong-h56 su[900]: FAILED SU (to root) alice on pts/0",
    "Mar  2 10:15:46 cong-h56 useradd[901]: new user: name=bob, UID=1001, GID=1001, home=/home/bob, shell=/bin/sh, "
    "from=/dev/pts/0",
]
REAL_ACCESS = ('198.18.5.7 - - [02/Mar/2026:10:15:42 +0700] "GET /.env?x=1%27%20or%201=1 HTTP/1.1" 404 153 "-" '
               '"sqlmap/1.7.2"')

garbage_text = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\n"), max_size=300)
garbage_bytes = st.binary(max_size=300).map(lambda data: data.replace(b"\n", b""))


def bounded(events):
    """Every event names a known counter and label values from its fixed set."""
    for name, values in events:
        assert name in CATALOGUE
        assert values in set(CATALOGUE[name].series())


@given(garbage_text)
def test_no_parser_raises_or_counts_random_text(line):
    for parse in PARSERS:
        assert parse(line) == []


@given(garbage_bytes)
def test_no_parser_raises_or_counts_random_bytes_decoded_as_the_collector_does(data):
    line = data.decode("utf-8", "replace")
    for parse in PARSERS:
        assert parse(line) == []


@given(st.sampled_from(REAL_LINES + [REAL_ACCESS]), garbage_text, st.integers(min_value=0, max_value=400))
def test_real_lines_with_garbage_spliced_in_raise_nothing_and_keep_labels_bounded(line, junk, at):
    spliced = line[:at] + junk + line[at:]
    for parse in PARSERS:
        bounded(parse(spliced))


@given(st.lists(garbage_text, max_size=30))
def test_audit_log_reader_survives_any_sequence_of_lines(lines):
    parser = modsecurity.AuditLog()
    for line in ["---Kq3XbWfH---H--", *lines]:
        bounded(parser.line(line))


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                    lambda children: st.lists(children, max_size=5), max_leaves=20))
def test_journal_field_of_any_json_shape_becomes_text(value):
    assert isinstance(text(value), str)


# One operation on a real log file: write a piece of text, read, rotate (rename + create) or
# copytruncate (which, as logrotate does it, comes right after everything was read: what was
# written between its copy and its truncation is lost by any reader). Between two rotations
# there is at least one read: scrapes come every few seconds, rotations daily, and a file
# created and rotated away between two reads is one no reader of the path ever sees.
operations = st.lists(st.one_of(
    st.tuples(st.just("write"), st.lists(st.integers(min_value=0, max_value=len(REAL_LINES) - 1), max_size=4),
              st.integers(min_value=0, max_value=60)),
    st.tuples(st.just("read")), st.tuples(st.just("rotate")), st.tuples(st.just("copytruncate")),
    st.tuples(st.just("garbage"), garbage_bytes)), max_size=25)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations)
def test_a_log_written_in_any_pieces_rotated_or_truncated_anytime_is_read_exactly_once(ops):
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "auth.log")
        open(path, "wb").close()
        log = LogFile(path, keep_rotated=50)
        log.read()
        pending, written, read, rotations, serial = b"", [], [], 0, 0

        rotated_since_read = False

        def take():
            nonlocal rotated_since_read
            read.extend(line for line in log.read().lines if line)
            rotated_since_read = False

        for op in ops:
            if op[0] == "write":
                # Each line is stamped, as real log lines are: no reader can tell a file truncated
                # and refilled with the very same bytes from one never touched.
                lines, split = [f"{serial + i:06d} {REAL_LINES[n]}" for i, n in enumerate(op[1])], op[2]
                serial += len(lines)
                data = pending + "".join(line + "\n" for line in lines).encode()
                written.extend(line.encode() for line in lines)
                cut = min(split, len(data)) if lines else len(data)
                with open(path, "ab") as file:
                    file.write(data[:cut])  # the rest of the last line comes with the next write
                pending = data[cut:]
            elif op[0] == "garbage":
                # A whole garbage line (a writer finishes its line before another starts), stamped too.
                line = f"{serial:06d} ".encode() + op[1]
                serial += 1
                with open(path, "ab") as file:
                    file.write(pending + line + b"\n")
                pending = b""
                written.append(line)
            elif op[0] == "read":
                take()
            elif op[0] == "rotate":
                with open(path, "ab") as file:
                    file.write(pending)
                pending = b""
                if rotated_since_read:
                    take()
                rotated_since_read = True
                rotations += 1
                os.rename(path, f"{path}.{rotations}")
                open(path, "wb").close()
            else:
                with open(path, "ab") as file:
                    file.write(pending)
                pending = b""
                take()
                os.truncate(path, 0)
        with open(path, "ab") as file:
            file.write(pending)
        take()
        log.close()
        assert read == written


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.sampled_from(REAL_LINES).map(str.encode), garbage_bytes), max_size=40))
def test_garbage_lines_among_real_ones_change_no_count(lines):
    with tempfile.TemporaryDirectory() as directory:
        clean, dirty = os.path.join(directory, "clean.log"), os.path.join(directory, "dirty.log")
        counts = []
        for path, content in ((clean, [line for line in lines if line.decode("utf-8", "replace") in REAL_LINES]),
                              (dirty, lines)):
            open(path, "wb").close()
            collector = SecurityCollector(journal=False, auth_log=path, nginx_access_log=None, modsec_audit_log=None,
                                       nginx_error_log=None, fail2ban_log=None, integrity={}, expected_ports=None,
                                       updates_command=None, state_dir=None)
            collector.collect()
            with open(path, "ab") as file:
                file.write(b"".join(line + b"\n" for line in content))
            collector.collect()
            collector.close()
            tally = {name: series for name, series in collector.tally.counts.items()
                     if name not in ("log_lines", "log_lines_skipped")}
            counts.append(tally)
        assert counts[0] == counts[1]
