"""The deploy on real lab hosts: it converges, changes nothing the second time, tells the
truth when dry, hardens what it says it hardens, and never locks its operator out.

These tests own the lab: the session's ``converged`` lab is brought up fresh, deployed,
and taken down at the end.
"""

import re
import subprocess

import pytest

from lab import settings
from lab.ssh import run_on
from tests.lab.province import ADDRESS, HOSTS, SIZE, deploy, host, portalops, psql, remote_sha

pytestmark = pytest.mark.lab


def test_a_fresh_lab_converges_with_no_error(converged):
    result, rows = converged
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert sorted(rows) == sorted(HOSTS)
    assert all(row[0] == "changed" for row in rows.values())


def test_a_second_run_changes_nothing(converged):
    result, rows = deploy()
    assert result.returncode == 0
    assert {name: row[0] for name, row in rows.items()} == {name: "unchanged" for name in HOSTS}
    assert "0 operations changed" in result.stdout


def test_a_dry_run_shows_the_drift_and_changes_nothing(converged):
    run_on(ADDRESS["xa-thanh-hoa-01"], "sudo rm /etc/apt/apt.conf.d/20auto-upgrades")
    result, rows = deploy("--dry")
    assert rows["xa-thanh-hoa-01"][0] == "would change" and rows["portal-1"][0] == "unchanged"
    assert not host("xa-thanh-hoa-01").file("/etc/apt/apt.conf.d/20auto-upgrades").exists
    result, rows = deploy()
    assert rows["xa-thanh-hoa-01"][0] == "changed"
    assert host("xa-thanh-hoa-01").file("/etc/apt/apt.conf.d/20auto-upgrades").exists


@pytest.mark.parametrize("name", HOSTS)
def test_sshd_runs_hardened(converged, name):
    effective = host(name).check_output("sshd -T")
    for setting in ("permitrootlogin no", "passwordauthentication no", "kbdinteractiveauthentication no",
                    "maxauthtries 3", "allowgroups ssh-users", "x11forwarding no", "clientaliveinterval 150",
                    "clientalivecountmax 2", "tcpkeepalive no", "maxsessions 10", "banner /etc/issue.net"):
        assert setting in effective
    assert "ciphers chacha20-poly1305@openssh.com," in effective and "cbc" not in effective


def test_root_login_is_refused(converged):
    key = settings.OPERATOR_KEY
    login = subprocess.run(["ssh", "-i", str(key), "-o", f"UserKnownHostsFile={settings.KNOWN_HOSTS}",
                            "-o", "BatchMode=yes", "root@198.18.0.10", "true"], capture_output=True, text=True)
    assert login.returncode == 255 and "Permission denied (publickey)" in login.stderr


def test_password_login_is_refused(converged):
    login = subprocess.run(["ssh", "-o", f"UserKnownHostsFile={settings.KNOWN_HOSTS}", "-o", "BatchMode=yes",
                            "-o", "PubkeyAuthentication=no", f"{settings.SSH_USER}@198.18.0.10", "true"],
                           capture_output=True, text=True)
    assert "Permission denied (publickey)" in login.stderr  # no password method is even offered


def test_the_admin_keeps_key_login_and_sudo(converged):
    assert host("db-1").user().name == "root"
    assert set(host("db-1").user(settings.SSH_USER).groups) >= {"sudo", "ssh-users"}


def test_the_journal_is_persistent_and_updates_are_unattended(converged):
    node = host("huyen-thanh-hoa")
    assert node.file("/var/log/journal").is_directory
    assert "Storage=persistent" in node.file("/etc/systemd/journald.conf").content_string
    assert node.package("unattended-upgrades").is_installed
    assert not node.package("telnet").is_installed


def test_the_firewall_denies_by_default_and_allows_per_role(converged):
    rules = host("db-1").check_output("nft list table inet portalops")
    assert "policy drop" in rules
    assert re.search(r"tcp dport 5432 ip saddr @allow_app_hosts accept", rules)
    assert "198.18.0.10" in rules  # the portal host, from the inventory
    web = host("portal-1").check_output("nft list table inet portalops")
    assert "tcp dport 443 accept" in web and "5432" not in web


def test_postgres_is_reachable_from_the_portal_host_only_and_offers_tls(converged):
    # The PostgreSQL SSLRequest message; the server answers "S" when it speaks TLS.
    probe = ("python3 -c \"import socket,struct; s=socket.create_connection(('198.18.0.11',5432),3); "
             "s.sendall(struct.pack('!ii',8,80877103)); print(s.recv(1).decode())\" 2>/dev/null || echo closed")
    assert run_on(ADDRESS["portal-1"], probe).stdout.strip() == "S"
    assert run_on(ADDRESS["xa-thanh-hoa-01"], probe).stdout.strip() == "closed"


def test_postgres_hashes_with_scram_logs_connections_and_admits_only_the_app_hosts(converged):
    assert psql("db-1", "show password_encryption") == "scram-sha-256"
    assert psql("db-1", "show log_connections") == "on" and psql("db-1", "show ssl") == "on"
    assert psql("db-1", "select rolpassword like 'SCRAM-SHA-256$%' from pg_authid where rolname = 'dichvucong'") == "t"
    rules = psql("db-1", "select type, address, auth_method from pg_hba_file_rules where type = 'hostssl'")
    assert rules.splitlines() == ["hostssl|198.18.0.10|scram-sha-256"]


def test_a_one_stop_host_runs_its_own_postgres_on_localhost_only(converged):
    assert psql("xa-thanh-hoa-01", "show listen_addresses") == "localhost"
    assert psql("xa-thanh-hoa-01", "select count(*) from pg_database where datname = 'dichvucong'") == "1"


def test_the_database_password_is_generated_on_the_controller_with_mode_0600(converged):
    from deploy.secrets import secrets_dir

    secret = secrets_dir() / "postgres-dichvucong"
    assert secret.stat().st_mode & 0o777 == 0o600 and len(secret.read_text()) >= 40


def test_ssh_is_closed_to_hosts_outside_the_admin_networks(converged):
    probe = "timeout 3 bash -c '</dev/tcp/198.18.0.11/22' && echo open || echo closed"
    assert run_on(ADDRESS["xa-thanh-hoa-01"], probe).stdout.strip() == "closed"


def test_a_broken_sshd_value_is_caught_before_reload_and_access_is_kept(converged):
    before = remote_sha("portal-1", "/etc/ssh/sshd_config")
    result, rows = deploy("--limit", "portal-1", "--data", "ssh_max_auth_tries=lots")
    assert result.returncode == 1
    assert rows["portal-1"][0] == "failed" and "[ssh-04]" in rows["portal-1"][-1]
    assert remote_sha("portal-1", "/etc/ssh/sshd_config") == before
    assert not host("portal-1").file("/etc/ssh/sshd_config.portalops-new").exists
    assert run_on(ADDRESS["portal-1"], "true").returncode == 0


def test_a_firewall_that_would_shut_out_the_deploy_is_refused(converged):
    result, rows = deploy("--limit", "monitor-1", "--data", 'admin_networks=["198.19.255.0/24"]')
    assert rows["monitor-1"][0] == "failed" and "[guard]" in rows["monitor-1"][-1]
    assert "outside admin_networks" in result.stderr
    assert run_on(ADDRESS["monitor-1"], "true").returncode == 0


def test_an_unreachable_host_is_named_and_the_others_still_converge(converged):
    # The portal host: booted afresh it is redeployed from nothing, which a database host
    # cannot be while the backup host keeps its old cluster's backups (see test_deploy_backup).
    pid = (settings.HOSTS_DIR / "portal-1" / "nspawn.pid").read_text().strip()
    subprocess.run(["kill", pid])
    try:
        result, rows = deploy()
        assert result.returncode == 1
        assert rows["portal-1"][0] == "unreachable"
        assert all(rows[name][0] == "unchanged" for name in HOSTS if name != "portal-1")
        assert "failed or unreachable: portal-1" in result.stdout
    finally:
        portalops("lab", "up", *SIZE)  # boots it afresh: it needs the deploy again
        assert deploy("--limit", "portal-1")[0].returncode == 0


def test_network_sysctls_apply_and_kernel_ones_are_reported_not_applicable_in_a_container(converged):
    node = host("portal-1")
    assert node.sysctl("net.ipv4.conf.all.accept_redirects") == 0
    assert node.sysctl("net.ipv4.tcp_syncookies") == 1
    assert "kernel.kptr_restrict" not in node.file("/etc/sysctl.d/90-portalops.conf").content_string
    result, _ = converged
    for control in ("[os-02]", "[os-03]", "[ids-01]", "[base-04]"):
        assert re.search(rf"\[portal-1\] {re.escape(control)} .*: not applicable in a container, skipped",
                         result.stderr)


def test_accounts_lock_out_after_five_failures_and_age_and_time_out(converged):
    node = host("huyen-thanh-hoa")
    assert "pam_faillock.so preauth" in node.file("/etc/pam.d/common-auth").content_string
    assert "deny = 5" in node.file("/etc/security/faillock.conf").content_string
    defs = node.file("/etc/login.defs").content_string
    assert re.search(r"^UMASK\t027$", defs, re.M) and re.search(r"^PASS_MAX_DAYS\t90$", defs, re.M)
    assert "INACTIVE=45" in node.file("/etc/default/useradd").content_string
    assert "TMOUT=300" in node.file("/etc/profile.d/portalops-session.sh").content_string
    assert node.file("/etc/shadow").mode == 0o640
    assert not node.file("/usr/bin/chsh").mode & 0o4000 and node.file("/usr/bin/sudo").mode & 0o4000


def test_fail2ban_watches_sshd_on_the_journal_and_never_bans_the_admin_network(converged):
    node = host("db-1")
    assert node.service("fail2ban").is_running
    status = node.check_output("fail2ban-client status sshd")
    assert "_SYSTEMD_UNIT=sshd.service" in status
    assert re.search(r"^[|`]- 198\.18\.0\.1$", node.check_output("fail2ban-client get sshd ignoreip"), re.M)



def https(path, host_name="portal-1", **kwargs):
    """An HTTPS request to a lab web host, checking its certificate against the lab CA."""
    import httpx

    from deploy.tls import default_ca_dir

    import ssl

    address = ADDRESS[host_name]
    context = ssl.create_default_context(cafile=str(default_ca_dir() / "ca.pem"))
    with httpx.Client(verify=context, timeout=10) as client:
        return client.get(f"https://{address}{path}", **kwargs)


def test_portal_and_one_stop_hosts_serve_tls_from_the_lab_ca_with_security_headers(converged):
    for name in ("portal-1", "xa-thanh-hoa-01"):
        response = https("/", name)
        assert response.status_code == 200 and "Cổng dịch vụ công" in response.text
        assert response.headers["strict-transport-security"] == "max-age=63072000"
        assert response.headers["x-frame-options"] == "DENY" and response.headers["server"] == "nginx"
    assert not host("db-1").package("nginx").is_installed


def test_tls_below_1_2_is_refused(converged):
    import socket
    import ssl

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1_1
    context.set_ciphers("ALL:@SECLEVEL=0")
    with socket.create_connection((ADDRESS["portal-1"], 443), timeout=5) as raw:
        with pytest.raises(ssl.SSLError):
            context.wrap_socket(raw)


def test_the_waf_blocks_a_classic_injection_and_lets_plain_requests_through(converged):
    assert https("/api/procedures", params={"q": "1' OR '1'='1' --"}).status_code == 403
    assert https("/", params={"q": "<script>alert(1)</script>"}).status_code == 403
    plain = https("/api/procedures", params={"q": "khai sinh"})
    assert plain.status_code == 200 and plain.json()["procedures"]


def test_http_redirects_to_https(converged):
    import httpx

    response = httpx.get(f"http://{ADDRESS['portal-1']}/dossiers/x", follow_redirects=False)
    assert response.status_code == 301 and response.headers["location"].startswith("https://")


def test_nginx_refuses_a_body_larger_than_every_attachment_together(converged):
    import socket
    import ssl

    from deploy.tls import default_ca_dir

    context = ssl.create_default_context(cafile=str(default_ca_dir() / "ca.pem"))
    context.check_hostname = False
    with socket.create_connection((ADDRESS["portal-1"], 443), timeout=10) as raw:
        with context.wrap_socket(raw) as tls:
            tls.sendall(b"POST /api/dossiers HTTP/1.1\r\nHost: portal-1\r\nContent-Type: multipart/form-data; "
                        b"boundary=x\r\nContent-Length: 400000000\r\n\r\n")
            assert tls.recv(100).startswith(b"HTTP/1.1 413")


def test_the_lab_ca_key_stays_on_the_controller_with_mode_0600(converged):
    from deploy.tls import default_ca_dir

    assert (default_ca_dir() / "ca.key").stat().st_mode & 0o777 == 0o600
    assert not host("portal-1").file("/etc/ssl/portalops/ca.key").exists
    assert host("portal-1").file("/etc/ssl/portalops/server.key").mode == 0o600


def test_the_portal_runs_sandboxed_on_its_own_account_with_secrets_only_it_reads(converged):
    node = host("portal-1")
    unit = node.check_output("systemctl show dichvucong-web -p User -p NoNewPrivileges -p ProtectSystem "
                             "-p CapabilityBoundingSet -p ActiveState")
    for setting in ("User=dichvucong", "NoNewPrivileges=yes", "ProtectSystem=strict", "ActiveState=active"):
        assert setting in unit
    pgpass = node.file("/etc/dichvucong/secrets/pgpass")
    assert (pgpass.user, pgpass.mode) == ("dichvucong", 0o600)


def test_the_province_portal_reaches_its_database_over_verified_tls(converged):
    env = host("portal-1").file("/opt/dichvucong/current/env").content_string
    assert "@198.18.0.11:5432/dichvucong" in env and "sslmode=verify-full" in env
    assert https("/readyz").json() == {"status": "ready"}
    assert https("/readyz", "xa-thanh-hoa-01").json() == {"status": "ready"}  # its own local database


def test_an_unhealthy_release_is_switched_back_by_itself(converged):
    before = host("portal-1").check_output("readlink /opt/dichvucong/current")
    result, rows = deploy("--limit", "portal-1", "--data", 'portal_extra_env={"DVC_MODE": "district"}')
    assert rows["portal-1"][0] == "failed" and "[app-03]" in rows["portal-1"][-1]
    assert "is unhealthy; going back to" in result.stderr
    assert host("portal-1").check_output("readlink /opt/dichvucong/current") == before
    assert https("/readyz").json() == {"status": "ready"}


def test_a_citizen_logs_in_files_and_the_dossier_reaches_the_national_stand_in(converged):
    import ssl
    import time

    import httpx

    from deploy.tls import default_ca_dir

    context = ssl.create_default_context(cafile=str(default_ca_dir() / "ca.pem"))
    with httpx.Client(verify=context, follow_redirects=True, timeout=20) as browser:
        login = browser.get(f"https://{ADDRESS['portal-1']}/auth/login", params={"login_hint": "001090000001"})
        assert login.status_code == 200  # through the SSO stand-in on the lab's national host and back
        filed = browser.post(f"https://{ADDRESS['portal-1']}/api/dossiers",
                             data={"procedure_code": "HT.c.001", "form": "{}"},
                             files=[("files", ("don.pdf", b"%PDF-1.4 lab dossier", "application/pdf"))])
        assert filed.status_code == 201, filed.text
    code = filed.json()["code"]
    national = f"http://{settings.NATIONAL_ADDRESS}:{settings.NATIONAL_PORT}/national/dossiers/{code}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not httpx.get(national).json()["messages"]:
        time.sleep(0.5)
    assert [m["kind"] for m in httpx.get(national).json()["messages"]] == ["DongBoHoSoMC"]


def test_the_legal_warning_is_shown_before_the_ssh_login_and_on_the_console(converged):
    login = subprocess.run(["ssh", "-i", str(settings.OPERATOR_KEY), "-o", f"UserKnownHostsFile={settings.KNOWN_HOSTS}",
                            "-o", "BatchMode=yes", "-o", "LogLevel=INFO", f"{settings.SSH_USER}@{ADDRESS['db-1']}",
                            "true"], capture_output=True, text=True)
    assert login.returncode == 0
    assert "Authorised use only" in login.stderr and "Chỉ người được cấp quyền" in login.stderr
    assert "Authorised use only" in host("db-1").file("/etc/issue").content_string


def test_no_published_security_update_is_left_waiting(converged):
    for name in ("portal-1", "xa-thanh-hoa-01"):
        simulated = host(name).check_output("apt-get -s -o Debug::NoLocking=1 upgrade")
        assert not [line for line in simulated.splitlines() if line.startswith("Inst ") and "-security" in line]


def test_a_login_session_gets_a_private_tmp_and_passwords_are_checked_for_strength(converged):
    assert run_on(ADDRESS["db-1"], "echo $TMPDIR").stdout.strip() == "/tmp/user/1000"
    node = host("db-1")
    assert "pam_pwquality.so" in node.file("/etc/pam.d/common-password").content_string
    assert "minlen = 14" in node.file("/etc/security/pwquality.conf.d/90-portalops.conf").content_string
    assert re.search(r"^SHA_CRYPT_MIN_ROUNDS\t65536$", node.file("/etc/login.defs").content_string, re.M)


def test_home_directories_are_closed_to_other_users(converged):
    assert host("db-1").file(f"/home/{settings.SSH_USER}").mode == 0o750
    assert host("db-1").file("/var/lib/postgresql").mode == 0o750


def test_integrity_checks_have_a_baseline_and_run_on_schedule(converged):
    node = host("xa-thanh-hoa-01")
    assert node.file("/var/lib/aide/aide.db").exists and node.service("dailyaidecheck.timer").is_running
    assert node.file("/var/lib/rkhunter/db/rkhunter.dat").exists
    assert 'CRON_DAILY_RUN="true"' in node.file("/etc/default/rkhunter").content_string
    assert node.run("rkhunter -C").rc == 0
    assert "CRON_CHECK=weekly" in node.file("/etc/default/debsums").content_string
    assert node.service("cron").is_running and node.file("/etc/cron.daily").mode == 0o700
    assert node.service("sysstat-collect.timer").is_running
    assert node.package("lynis").is_installed and node.package("needrestart").is_installed


def test_nginx_offers_no_tls_below_1_2_anywhere_in_its_configuration(converged):
    dump = host("portal-1").check_output("nginx -T 2>/dev/null")
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in dump and "TLSv1.1" not in dump
