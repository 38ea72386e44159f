"""The audit's readers of Lynis, ssh-audit, testssl.sh and dry-run output, and its verdicts."""

import pytest

from audit import controls, lynis, sshaudit, testssl
from audit.report import HostAudit, cells, details
from audit.targets import Target
from deploy.rollout import HostOutcome

TARGET = Target("xa-1", "198.18.2.1", ("onestop",), "portalops")

REPORT = """# Lynis Report
report_version_major=1
hardening_index=87
tests_executed=AUTH-9228|AUTH-9230|SSH-7408|
warning[]=PKGS-7392|Found one or more vulnerable packages.|-|-|
suggestion[]=SSH-7408|Consider hardening SSH configuration|MaxSessions (set 4 to 2)|-|
suggestion[]=BANN-7126|Add a legal banner to /etc/issue|-|-|
garbage line without the sign
skip-test=USB-1000
skip-test=KRNL-5788
"""


def test_lynis_report_gives_index_findings_and_the_profiles_skips():
    result = lynis.parse_report(REPORT)
    assert result.hardening_index == 87 and result.tests_run == 3
    assert result.warnings == ["PKGS-7392: Found one or more vulnerable packages."]
    assert result.suggestions[0] == "SSH-7408: Consider hardening SSH configuration (MaxSessions (set 4 to 2))"
    assert result.skipped == ["KRNL-5788", "USB-1000"]


def test_a_lynis_report_without_index_is_an_error():
    with pytest.raises(ValueError, match="did not finish"):
        lynis.parse_report("report_version_major=1\n")


def ssh_report(kex_warn=(), enc_fail=(), cves=()):
    return {"kex": [{"algorithm": "curve25519-sha256", "notes": {"warn": list(kex_warn)}}],
            "enc": [{"algorithm": "aes128-cbc", "notes": {"fail": list(enc_fail)}}],
            "key": [], "mac": [], "cves": list(cves)}


def test_ssh_audit_accepts_only_the_post_quantum_note_on_paramikos_key_exchanges():
    accepted = sshaudit.parse(ssh_report(["does not provide protection against post-quantum attacks"]))
    assert accepted.accepted and not accepted.warnings and not accepted.failures
    other = sshaudit.parse(ssh_report(["using weak elliptic curves"]))
    assert other.warnings == ["kex curve25519-sha256: using weak elliptic curves"]


def test_ssh_audit_failures_and_cves_fail_the_host():
    result = sshaudit.parse(ssh_report(enc_fail=["using broken cipher"], cves=[{"name": "CVE-2023-48795"}]))
    assert result.failures == ["enc aes128-cbc: using broken cipher", "CVE-2023-48795: "]
    assert not HostAudit(TARGET, ssh=result).passed()


def test_testssl_high_and_critical_findings_fail_medium_does_not():
    findings = [{"id": "cipher_order", "severity": "HIGH", "finding": "NOT a cipher order configured"},
                {"id": "BREACH", "severity": "MEDIUM", "finding": "potentially VULNERABLE"},
                {"id": "TLS1_3", "severity": "OK", "finding": "offered"}]
    result = testssl.parse(findings)
    assert result.severe == ["HIGH cipher_order: NOT a cipher order configured"]
    assert result.counts == {"HIGH": 1, "MEDIUM": 1, "OK": 1}
    assert HostAudit(TARGET, tls=result).failures()["tls"].startswith("HIGH cipher_order")
    assert HostAudit(TARGET, tls=testssl.parse(findings[1:])).passed()


def test_drifted_operations_become_controls():
    outcome = HostOutcome("xa-1", changed=2, drifted=["SSH hardening | [ssh-04] sshd configuration validated: x",
                                                      "Base | [base-07] Security updates: daily"])
    result = controls.from_outcome(outcome)
    assert sorted(result.drifted) == ["base-07", "ssh-04"]
    assert cells(HostAudit(TARGET, controls=result))[5] == "drift: base-07, ssh-04"


def test_the_verdict_holds_every_check_to_its_threshold_and_a_check_that_could_not_run_fails():
    good = HostAudit(TARGET, lynis=lynis.parse_report(REPORT), ssh=sshaudit.parse(ssh_report()),
                     tls=testssl.parse([]), controls=controls.from_outcome(HostOutcome("xa-1")))
    assert good.passed() and cells(good)[-1] == "pass"
    assert not good.passed(lynis_min=90) and "87 < 90" in good.failures(90)["lynis"]
    broken = HostAudit(TARGET, errors={"lynis": "xa-1: `lynis` exited 127: not found"})
    assert cells(broken)[2] == "error" and cells(broken)[-1] == "FAIL"
    assert any("exited 127" in line for line in details([broken]))


def test_targets_come_from_the_inventory_with_their_login():
    entry = {"name": "portal-1", "groups": ["portal"], "data": {
        "ssh_hostname": "198.18.0.10", "ssh_user": "portalops", "ssh_key": "/k", "roles": ["portal"],
        "ssh_known_hosts_file": "/kh"}}
    target = Target.from_inventory(entry)
    assert (target.address, target.ssh_user, target.ssh_port, target.known_hosts) == ("198.18.0.10", "portalops",
                                                                                       22, "/kh")
    assert target.serves_web and not Target.from_inventory({"name": "db-1", "data": {"roles": ["db"]}}).serves_web
