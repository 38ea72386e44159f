"""File integrity: changes against a baseline file, which survives restarts and is taken again
when the deploy deletes it."""

import os

from portalops_exporters.security.integrity import Integrity, fingerprint


class Clock:
    def __init__(self):
        self.now = 1_772_400_000.0

    def __call__(self):
        return self.now


def report(integrity):
    return {(family.name.removeprefix("portalops_security_integrity_"), sample.labels["group"]): sample.value
            for family in integrity.collect() for sample in family.samples}


def web_root(tmp_path):
    root = tmp_path / "www"
    (root / "pki").mkdir(parents=True)
    (root / "pki" / "portalops-ca.crl").write_bytes(b"crl v1")
    (root / "index.html").write_text("<h1>Cổng dịch vụ công</h1>")
    config = tmp_path / "sshd_config"
    config.write_text("PermitRootLogin no\n")
    return {"web_root": [str(root)], "ssh": [str(config)]}


def test_unchanged_files_report_no_change_and_their_count(tmp_path):
    integrity = Integrity(web_root(tmp_path), str(tmp_path / "state" / "baseline.json"), clock=Clock())
    found = report(integrity)
    assert found[("changed", "web_root")] == 0 and found[("files", "web_root")] == 2
    assert found[("last_change_timestamp_seconds", "web_root")] == 0
    assert report(integrity) == found


def test_changed_added_and_removed_files_are_changes_with_their_time(tmp_path):
    clock = Clock()
    groups = web_root(tmp_path)
    integrity = Integrity(groups, str(tmp_path / "baseline.json"), clock=clock)
    report(integrity)
    clock.now += 60
    (tmp_path / "www" / "index.html").write_text("<h1>defaced</h1>")
    found = report(integrity)
    assert (found[("changed", "web_root")], found[("changed", "ssh")]) == (1, 0)
    assert found[("last_change_timestamp_seconds", "web_root")] == clock.now
    clock.now += 60
    assert report(integrity)[("last_change_timestamp_seconds", "web_root")] == clock.now - 60
    (tmp_path / "www" / "shell.php").write_text("<?php system($_GET['c']); ?>")
    os.unlink(tmp_path / "sshd_config")
    found = report(integrity)
    assert (found[("changed", "web_root")], found[("changed", "ssh")], found[("files", "ssh")]) == (1, 1, 0)


def test_mode_change_with_the_same_content_is_a_change(tmp_path):
    integrity = Integrity(web_root(tmp_path), None, clock=Clock())
    report(integrity)
    os.chmod(tmp_path / "sshd_config", 0o666)
    assert report(integrity)[("changed", "ssh")] == 1


def test_files_with_unchanged_metadata_are_read_again_only_at_the_full_rehash(tmp_path, monkeypatch):
    from portalops_exporters.security import integrity as module
    reads = []
    monkeypatch.setattr(module, "fingerprint", lambda path, status: reads.append(path) or f"mark:{path}")
    clock = Clock()
    integrity = Integrity(web_root(tmp_path), None, rehash_seconds=3600, clock=clock)
    report(integrity)
    assert len(reads) == 3
    clock.now += 60
    report(integrity)
    assert len(reads) == 3  # metadata unchanged: nothing read
    clock.now += 3600
    report(integrity)
    assert len(reads) == 6  # the full re-hash (content changed under forged times)


def test_baseline_survives_a_restart_and_a_change_made_while_down_shows(tmp_path):
    groups, baseline = web_root(tmp_path), str(tmp_path / "baseline.json")
    report(Integrity(groups, baseline, clock=Clock()))
    (tmp_path / "sshd_config").write_text("PermitRootLogin yes\n")
    assert report(Integrity(groups, baseline, clock=Clock()))[("changed", "ssh")] == 1


def test_deleting_the_baseline_file_accepts_the_current_files(tmp_path):
    clock = Clock()
    groups, baseline = web_root(tmp_path), str(tmp_path / "baseline.json")
    integrity = Integrity(groups, baseline, clock=clock)
    report(integrity)
    (tmp_path / "sshd_config").write_text("PermitRootLogin no\nMaxAuthTries 3\n")
    assert report(integrity)[("changed", "ssh")] == 1
    os.unlink(baseline)  # what the deploy does after changing watched files on purpose
    clock.now += 10
    found = report(integrity)
    assert found[("changed", "ssh")] == 0
    assert found[("baseline_timestamp_seconds", "ssh")] == clock.now
    assert os.path.exists(baseline)


def test_unreadable_file_is_watched_by_its_metadata(tmp_path):
    path = tmp_path / "shadow"
    path.write_text("root:*:19000:0:99999:7:::\n")
    status = os.stat(path)
    os.chmod(path, 0)
    try:
        mark = fingerprint(str(path), status)
        readable = os.access(path, os.R_OK)  # root reads it anyway
    finally:
        os.chmod(path, 0o640)
    assert mark.startswith("sha256:" if readable else "meta:")


def test_glob_and_symbolic_link_are_watched(tmp_path):
    (tmp_path / "nginx").mkdir()
    (tmp_path / "nginx" / "a.conf").write_text("a")
    (tmp_path / "nginx" / "b.conf").write_text("b")
    (tmp_path / "current").symlink_to(tmp_path / "nginx")
    integrity = Integrity({"nginx": [str(tmp_path / "nginx" / "*.conf")], "release": [str(tmp_path / "current")]},
                          None, clock=Clock())
    found = report(integrity)
    assert (found[("files", "nginx")], found[("files", "release")]) == (2, 1)
    (tmp_path / "current").unlink()
    (tmp_path / "current").symlink_to(tmp_path)
    assert report(integrity)[("changed", "release")] == 1
