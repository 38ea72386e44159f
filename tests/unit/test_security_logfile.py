"""Reading a log file as it grows, on real files: rotation, truncation, half lines, overlong lines,
restarts. Every line is read exactly once."""

import os

from portalops_exporters.security.logfile import LogFile


def write(path, text, mode="a"):
    with open(path, mode + "b") as file:
        file.write(text.encode() if isinstance(text, str) else text)


def lines(log):
    return [line.decode() for line in log.read().lines]



def following(path) -> LogFile:
    """A new, empty log file at ``path``, opened and read to its end (as the exporter starts)."""
    write(path, "")
    log = LogFile(str(path))
    log.read()
    return log

def test_first_start_begins_at_the_end_and_reads_only_what_comes_after(tmp_path):
    path = tmp_path / "access.log"
    write(path, "old 1\nold 2\n")
    log = LogFile(str(path))
    assert lines(log) == []
    write(path, "new 1\nnew 2\n")
    assert lines(log) == ["new 1", "new 2"]
    assert lines(log) == []


def test_half_line_at_the_end_waits_for_its_newline(tmp_path):
    path = tmp_path / "access.log"
    log = following(path)
    write(path, "first\nsec")
    assert lines(log) == ["first"]
    write(path, "ond\nthi")
    assert lines(log) == ["second"]
    write(path, "rd\n")
    assert lines(log) == ["third"]


def test_half_line_being_written_at_the_first_start_is_read_whole_once_complete(tmp_path):
    path = tmp_path / "access.log"
    write(path, "old\nhalf of a li")
    log = LogFile(str(path))
    assert lines(log) == []
    write(path, "ne\nnew\n")
    assert lines(log) == ["half of a line", "new"]


def test_rotation_reads_the_rest_of_the_old_file_then_the_new_one(tmp_path):
    path = tmp_path / "access.log"
    log = following(path)
    write(path, "a\nb\n")
    assert lines(log) == ["a", "b"]
    write(path, "c\n")
    os.rename(path, tmp_path / "access.log.1")
    write(tmp_path / "access.log.1", "d\n")  # the writer has not reopened yet
    write(path, "e\n", "w")  # logrotate's create
    batch = log.read()
    assert [line.decode() for line in batch.lines] == ["c", "d", "e"]
    assert batch.rotated == 1
    write(tmp_path / "access.log.1", "f\n")  # still late: read at the next read, not lost
    write(path, "g\n")
    assert lines(log) == ["f", "g"]


def test_rotated_file_is_let_go_once_deleted_and_read(tmp_path):
    path = tmp_path / "access.log"
    log = following(path)
    os.rename(path, tmp_path / "access.log.1")
    write(path, "x\n", "w")
    assert lines(log) == ["x"]
    os.unlink(tmp_path / "access.log.1")
    log.read()
    assert log.position()["rotated"] == []


def test_file_renamed_away_and_recreated_later_loses_nothing(tmp_path):
    path = tmp_path / "fail2ban.log"
    log = following(path)
    write(path, "1\n")
    os.rename(path, tmp_path / "fail2ban.log.1")
    batch = log.read()
    assert ([line.decode() for line in batch.lines], batch.readable) == (["1"], False)
    write(path, "2\n", "w")
    assert lines(log) == ["2"]


def test_copytruncate_reads_the_file_again_from_its_start(tmp_path):
    path = tmp_path / "access.log"
    log = following(path)
    write(path, "one\ntwo\n")
    assert lines(log) == ["one", "two"]
    os.truncate(path, 0)
    write(path, "three\n")
    batch = log.read()
    assert [line.decode() for line in batch.lines] == ["three"]
    assert batch.truncated == 1


def test_truncated_and_grown_past_the_old_offset_between_reads_is_seen_by_its_first_bytes(tmp_path):
    path = tmp_path / "access.log"
    log = following(path)
    write(path, "2026-03-02 line one\n")
    assert lines(log) == ["2026-03-02 line one"]
    os.truncate(path, 0)
    write(path, "2026-03-03 line two, longer than everything before it\n")
    batch = log.read()
    assert [line.decode() for line in batch.lines] == ["2026-03-03 line two, longer than everything before it"]
    assert batch.truncated == 1


def test_overlong_line_is_skipped_whole_and_counted(tmp_path):
    path = tmp_path / "access.log"
    write(path, "")
    log = LogFile(str(path), max_line_bytes=100)
    log.read()
    write(path, "short\n" + "x" * 250 + "\nafter\n")
    batch = log.read()
    assert ([line.decode() for line in batch.lines], batch.skipped) == (["short", "after"], 1)


def test_overlong_line_without_newline_yet_is_skipped_when_its_end_arrives(tmp_path):
    path = tmp_path / "access.log"
    write(path, "")
    log = LogFile(str(path), max_line_bytes=100)
    log.chunk = 128  # small reads, so the line spans several
    log.read()
    write(path, "y" * 300)
    assert log.read().lines == []
    write(path, "y" * 300 + "\nnext\n")
    batch = log.read()
    assert ([line.decode() for line in batch.lines], batch.skipped) == (["next"], 1)


def test_binary_and_invalid_utf8_lines_come_back_as_bytes(tmp_path):
    path = tmp_path / "access.log"
    log = following(path)
    write(path, b"\x00\xff\xfe garbage\n\xc3\x28\n")
    assert log.read().lines == [b"\x00\xff\xfe garbage", b"\xc3\x28"]


def test_missing_file_is_unreadable_and_read_from_its_start_once_it_appears(tmp_path):
    path = tmp_path / "modsec_audit.log"
    log = LogFile(str(path))
    assert log.read().readable is False
    write(path, "first\n")
    assert lines(log) == ["first"]


def test_restart_from_saved_position_reads_what_was_written_meanwhile_once(tmp_path):
    path = tmp_path / "access.log"
    log = following(path)
    write(path, "a\nb\n")
    assert lines(log) == ["a", "b"]
    saved = log.position()
    log.close()
    write(path, "c\n")
    again = LogFile(str(path), saved=saved)
    assert lines(again) == ["c"]


def test_restart_after_a_rotation_while_down_finds_the_old_file_by_inode(tmp_path):
    path = tmp_path / "access.log"
    log = following(path)
    write(path, "a\n")
    assert lines(log) == ["a"]
    saved = log.position()
    log.close()
    write(path, "b\n")
    os.rename(path, tmp_path / "access.log.1")
    write(path, "c\n", "w")
    again = LogFile(str(path), saved=saved)
    batch = again.read()
    assert [line.decode() for line in batch.lines] == ["b", "c"]
    assert batch.rotated == 1


def test_read_budget_leaves_the_rest_for_the_next_read(tmp_path):
    path = tmp_path / "access.log"
    write(path, "")
    log = LogFile(str(path), max_read_bytes=8, max_line_bytes=4)
    log.read()
    write(path, "".join(f"{n}\n" for n in range(10)))
    assert lines(log) == ["0", "1", "2", "3"]
    assert lines(log) == ["4", "5", "6", "7"]
    assert lines(log) == ["8", "9"]
