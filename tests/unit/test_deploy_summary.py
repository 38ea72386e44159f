"""portalops deploy's per-host summary, from pyinfra's JSON and log lines."""

from deploy.rollout import LogFindings, summarise

OP = "SSH hardening | [ssh-04] sshd configuration validated (sshd -t) before it is used: sshd_config"


def log_of(*lines):
    findings = LogFindings()
    for line in lines:
        findings.read(line)
    return findings


def test_changed_unchanged_and_failed_hosts_are_told_apart():
    output = {"results": {"operations": [
        {"name": "Base | a", "success": ["a"], "no_change": ["b"], "error": []},
        {"name": OP, "success": [], "no_change": ["a"], "error": ["c"]},
    ]}}
    outcomes = {o.name: o for o in summarise(["a", "b", "c"], output, log_of(), dry=False)}
    assert (outcomes["a"].state, outcomes["a"].changed, outcomes["a"].unchanged) == ("changed", 1, 1)
    assert outcomes["b"].state == "unchanged"
    assert outcomes["c"].state == "failed" and outcomes["c"].failed == [OP]


def test_an_unreachable_host_is_named_with_the_reason():
    log = log_of("    [db-1]            Could not connect (timed out)")
    outcomes = {o.name: o for o in summarise(["db-1", "x"], {}, log, dry=False)}
    assert outcomes["db-1"].state == "unreachable" and outcomes["db-1"].unreachable == "timed out"


def test_a_failure_only_in_the_log_still_fails_the_host():
    log = log_of(f"--> Starting operation: {OP} ", "    [portal-1]        refused: /etc/ssh/sshd_config not changed",
                 "    [portal-1]        Error: executed 2 commands")
    (outcome,) = summarise(["portal-1"], {}, log, dry=False)
    assert outcome.state == "failed" and outcome.failed == [OP]


def test_a_dry_run_counts_only_definite_changes():
    output = {"plan": [{"name": "x", "hosts_with_change": ["a"], "hosts_with_conditional_change": ["a", "b"]}]}
    outcomes = {o.name: o for o in summarise(["a", "b"], output, log_of(), dry=True)}
    assert outcomes["a"].changed == 1 and outcomes["b"].changed == 0
