"""The security-events collector end to end on real files: what a scrape exports, counts that are
exact across rotation, truncation and restarts, and labels that never carry a log's values."""

import os

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from portalops_exporters.exporter import Scraped
from portalops_exporters.security import NAME, SecurityCollector

ACCESS = '198.18.5.{n} - - [02/Mar/2026:10:15:{n:02d} +0700] "{request}" {status} 153 "-" "Mozilla/5.0"\n'
AUDIT_BLOCK = """---Tx{n:06d}---A--
[02/Mar/2026:10:15:42 +0700] 17724441425{n}.1 198.18.5.7 40022 198.18.0.2 443
---Tx{n:06d}---H--
ModSecurity: Warning. detected XSS using libinjection. [file "/usr/share/modsecurity-crs/rules/REQUEST-941-APPLICATION-ATTACK-XSS.conf"] [line "55"] [id "941100"] [msg "XSS Attack Detected via libinjection"]
ModSecurity: Access denied with code 403 (phase 2). Matched "Operator `Ge' with parameter `5' against variable `TX:ANOMALY_SCORE' (Value: `5' ) [file "/usr/share/modsecurity-crs/rules/REQUEST-949-BLOCKING-EVALUATION.conf"] [line "81"] [id "949110"]

---Tx{n:06d}---Z--

"""
FAIL2BAN = "2026-03-02 10:15:{n:02d},117 fail2ban.actions        [812]: NOTICE  [sshd] Ban 198.18.7.{n}\n"


def append(path, text):
    with open(path, "a", encoding="utf-8") as file:
        file.write(text)


def collector_for(tmp_path, **options):
    logs = tmp_path / "logs"
    logs.mkdir(exist_ok=True)
    defaults = dict(journal=False, nginx_access_log=str(logs / "access.log"),
                    modsec_audit_log=str(logs / "modsec_audit.log"), fail2ban_log=str(logs / "fail2ban.log"),
                    integrity={}, expected_ports=None, updates_command=None, state_dir=str(tmp_path / "state"),
                    reboot_required_file=str(tmp_path / "reboot-required"))
    return SecurityCollector(**{**defaults, **options}), logs


def scrape(collector):
    registry = CollectorRegistry()
    registry.register(Scraped(NAME, collector))
    samples = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels):
    return samples[(name, tuple(sorted(labels.items())))]


def test_scrape_counts_each_log_line_once_with_every_series_present_from_zero(tmp_path):
    collector, logs = collector_for(tmp_path)
    for name in ("access.log", "modsec_audit.log", "fail2ban.log"):
        (logs / name).touch()
    first = scrape(collector)
    assert value(first, "portalops_security_up") == 1
    assert value(first, "portalops_security_http_attack_requests_total", signature="sql_injection") == 0
    append(logs / "access.log", ACCESS.format(n=1, request="GET /?id=1%27%20or%201=1 HTTP/1.1", status=403)
           + ACCESS.format(n=2, request="GET / HTTP/1.1", status=200))
    append(logs / "modsec_audit.log", AUDIT_BLOCK.format(n=1))
    append(logs / "fail2ban.log", FAIL2BAN.format(n=3))
    samples = scrape(collector)
    assert value(samples, "portalops_security_http_responses_total", status_class="4xx") == 1
    assert value(samples, "portalops_security_http_responses_total", status_class="2xx") == 1
    assert value(samples, "portalops_security_http_attack_requests_total", signature="sql_injection") == 1
    assert value(samples, "portalops_security_waf_blocks_total", family="xss") == 1
    assert value(samples, "portalops_security_fail2ban_actions_total", jail="sshd", action="ban") == 1
    assert value(samples, "portalops_security_log_lines_total", source="nginx_access") == 2
    assert value(samples, "portalops_security_log_readable", source="modsec_audit") == 1
    again = scrape(collector)
    duration = ("portalops_security_scrape_duration_seconds", ())
    assert {**again, duration: 0} == {**samples, duration: 0}  # nothing new, nothing counted


def test_missing_log_is_reported_unreadable_and_the_rest_still_counts(tmp_path):
    collector, logs = collector_for(tmp_path)
    (logs / "access.log").touch()
    scrape(collector)
    append(logs / "access.log", ACCESS.format(n=1, request="GET / HTTP/1.1", status=500))
    samples = scrape(collector)
    assert value(samples, "portalops_security_up") == 1
    assert value(samples, "portalops_security_log_readable", source="fail2ban") == 0
    assert value(samples, "portalops_security_http_responses_total", status_class="5xx") == 1


def test_rotation_and_copytruncate_between_scrapes_count_every_line_once(tmp_path):
    collector, logs = collector_for(tmp_path)
    access = logs / "access.log"
    access.touch()
    scrape(collector)
    append(access, ACCESS.format(n=1, request="GET / HTTP/1.1", status=404))
    scrape(collector)
    append(access, ACCESS.format(n=2, request="GET / HTTP/1.1", status=404))
    os.rename(access, logs / "access.log.1")
    append(access, ACCESS.format(n=3, request="GET / HTTP/1.1", status=404))
    scrape(collector)
    os.truncate(access, 0)
    append(access, ACCESS.format(n=4, request="GET / HTTP/1.1", status=404)
           + ACCESS.format(n=5, request="GET / HTTP/1.1", status=404))
    samples = scrape(collector)
    assert value(samples, "portalops_security_http_responses_total", status_class="4xx") == 5
    assert value(samples, "portalops_security_log_restarts_total", source="nginx_access", kind="rotated") == 1
    assert value(samples, "portalops_security_log_restarts_total", source="nginx_access", kind="truncated") == 1


def test_restart_continues_counts_and_positions_without_counting_twice(tmp_path):
    collector, logs = collector_for(tmp_path)
    access = logs / "access.log"
    access.touch()
    scrape(collector)
    append(access, ACCESS.format(n=1, request="GET /.env HTTP/1.1", status=404))
    scrape(collector)
    collector.close()
    append(access, ACCESS.format(n=2, request="GET /.git/config HTTP/1.1", status=404))  # while down
    restarted, _ = collector_for(tmp_path)
    samples = scrape(restarted)
    assert value(samples, "portalops_security_http_attack_requests_total", signature="sensitive_file_probe") == 2
    assert value(scrape(restarted), "portalops_security_http_responses_total", status_class="4xx") == 2


def test_without_state_dir_a_restart_starts_at_the_end_with_counters_at_zero(tmp_path):
    collector, logs = collector_for(tmp_path, state_dir=None)
    access = logs / "access.log"
    access.write_text(ACCESS.format(n=1, request="GET / HTTP/1.1", status=200))
    assert value(scrape(collector), "portalops_security_http_responses_total", status_class="2xx") == 0
    assert not (tmp_path / "state").exists()


def test_waf_blocks_come_from_the_error_log_when_no_audit_log_is_kept(tmp_path):
    collector, logs = collector_for(tmp_path, modsec_audit_log=None, nginx_error_log=str(tmp_path / "logs/error.log"))
    (logs / "error.log").touch()
    scrape(collector)
    append(logs / "error.log", '2026/03/02 10:15:42 [error] 812#812: *5 [client 198.18.5.7] ModSecurity: Access '
           'denied with code 403 (phase 2). [file "/usr/share/modsecurity-crs/rules/REQUEST-949-BLOCKING-EVALUATION'
           '.conf"] [line "81"] [id "949110"] [msg "Inbound Anomaly Score Exceeded (Total Score: 5)"]\n')
    assert value(scrape(collector), "portalops_security_waf_blocks_total", family="anomaly_inbound") == 1


def test_labels_never_carry_addresses_users_or_paths_from_the_logs(tmp_path):
    collector, logs = collector_for(tmp_path, auth_log=str(tmp_path / "logs/auth.log"), fail2ban_jails=["sshd"])
    for name in ("access.log", "modsec_audit.log", "fail2ban.log", "auth.log"):
        (logs / name).touch()
    scrape(collector)
    append(logs / "auth.log", "Mar  2 10:15:42 cong-h56 sshd[1]: Failed password for invalid user nguyenvana from "
           "198.18.5.77 port 40022 ssh2\nMar  2 10:15:43 cong-h56 sshd[1]: Failed gssapi-weird for x from "
           "198.18.5.77 port 1 ssh2\n")
    append(logs / "fail2ban.log", FAIL2BAN.format(n=77).replace("[sshd]", "[jail-typed-by-someone]"))
    append(logs / "access.log", ACCESS.format(n=77, request="GET /etc/passwd HTTP/1.1", status=404))
    labels = {value for key in scrape(collector) for _, value in key[1]}
    assert not any("198.18" in label or "nguyenvana" in label or "/" in label or "jail-typed" in label
                   for label in labels)
    assert labels >= {"other", "password"}


def test_reboot_required_follows_the_file(tmp_path):
    collector, _ = collector_for(tmp_path)
    assert value(scrape(collector), "portalops_security_reboot_required") == 0
    (tmp_path / "reboot-required").write_text("*** System restart required ***\n")
    assert value(scrape(collector), "portalops_security_reboot_required") == 1
