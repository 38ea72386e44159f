"""Monitoring on the lab: the monitor host's Prometheus scrapes every host over mutual TLS, and each
fault injected on a lab host brings the right alert to Alertmanager, which clears once it is undone.

The faults are injected together on different hosts (each alert names its host), so the
whole file waits for alerts once and for their clearing once.
"""

from __future__ import annotations

import datetime
import re
import ssl
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from deploy import defaults
from lab.ssh import run_on, ssh_command
from tests.lab.monitoring import has_alert, monitor, query, wait_for
from lab import settings
from tests.lab.province import ADDRESS, HOSTS, fetch_from, host, portalops

pytestmark = pytest.mark.lab

WEB_HOSTS = ["portal-1", "huyen-thanh-hoa", "xa-thanh-hoa-01"]
DATABASE_HOSTS = ["db-1", "huyen-thanh-hoa", "xa-thanh-hoa-01"]
# Rules evaluate every 15 s and the longest "for" of the alerts below is 2 minutes.
FIRE_SECONDS = 360
CLEAR_SECONDS = 480
RULES = Path(__file__).resolve().parents[2] / "monitors" / "rules"


def on(name: str, command: str, check: bool = True) -> str:
    """Run the shell ``command`` as root on a lab host (given on standard input: no quoting); its output."""
    result = subprocess.run(ssh_command(ADDRESS[name], "sudo sh -s"), input=command, capture_output=True, text=True,
                            timeout=120)
    if check:
        assert result.returncode == 0, f"{name}: {command}: {result.stderr}"
    return result.stdout


def test_after_the_deploy_every_target_is_up_and_nothing_fires(converged):
    expected = {("node", h) for h in HOSTS} | {("portalops", h) for h in HOSTS} | \
               {(job, h) for h in WEB_HOSTS for job in ("portal", "probe_https_portal", "probe_tls_expiry", "nginx")} | \
               {("postgres", h) for h in DATABASE_HOSTS}

    def all_up():
        up = {(t["labels"]["job"], t["labels"]["instance"]) for t in monitor().targets() if t["health"] == "up"}
        return expected <= up

    wait_for(all_up, 240, what="every target up")
    time.sleep(60)  # two rounds of rule evaluation over fresh data
    assert [a["labels"]["alertname"] + " " + a["labels"].get("instance", "") for a in monitor().firing()] == []
    # Prometheus never ran with Debian's own configuration (its localhost targets, scraped in
    # plain HTTP, fail and would page a HostDown that is none of the inventory's hosts).
    assert query('count_over_time(up{instance=~"localhost:.*"}[1h])') == []
    assert {r["metric"]["instance"] for r in query('portalops_services_up == 1')} == set(HOSTS)
    assert {r["metric"]["instance"] for r in query('portalops_security_up == 1')} == set(HOSTS)
    assert {r["metric"]["instance"] for r in query('portalops_dossiers_up == 1')} == {
        "db-1", "huyen-thanh-hoa", "xa-thanh-hoa-01"}
    # The journey walked the province's portal through nginx and the WAF, filed a dossier,
    # read its attachment back and withdrew it.
    journey = query('probe_journey_step_success{job="probe_journey"}')
    assert {r["metric"]["step"]: r["value"][1] for r in journey} == {
        step: "1" for step in ("catalogue_search", "login", "upload", "lookup", "readback", "withdraw", "logout")}
    status = portalops("monitor", str(settings.INVENTORY_FILE), "--wait", "30")
    assert status.returncode == 0, status.stdout + status.stderr
    assert "0 down; 0 alerts firing" in status.stdout
    # Debian's exporters read what they watch: nginx's counters, PostgreSQL's statistics.
    assert {r["metric"]["instance"] for r in query('nginx_up == 1')} == set(WEB_HOSTS)
    assert {r["metric"]["instance"] for r in query('pg_up == 1')} == set(DATABASE_HOSTS)


def test_every_series_the_rules_read_from_debians_exporters_is_scraped(converged):
    """A rule reading a name Debian's exporter does not export (another version, a typo) never
    fires: each name the rules read from the PostgreSQL and nginx exporters comes from every
    host that runs them."""
    expected = {"pg": set(DATABASE_HOSTS), "nginx": set(WEB_HOSTS)}
    read = {name for path in RULES.glob("*.yml") for group in yaml.safe_load(path.read_text())["groups"]
            for rule in group["rules"] for name in re.findall(r"\b((?:pg|nginx)_[a-z_]+)\b", rule["expr"])}
    assert any(name.startswith("pg_") for name in read)
    for name in sorted(read):
        instances = {r["metric"]["instance"] for r in query(f'count by (instance) ({name})')}
        assert instances == expected[name.split("_")[0]], name


def test_exporters_answer_the_monitor_host_only_and_only_with_its_certificate(converged):
    ports = defaults.MONITORING
    for port in (ports["node_exporter_port"], ports["exporter_port"], ports["postgres_exporter_port"]):
        url = f"https://{ADDRESS['db-1']}:{port}/metrics"
        with_cert = fetch_from("monitor-1", url, cert="/etc/prometheus/tls/cert.pem", key="/etc/prometheus/tls/key.pem")
        assert with_cert == "200"
        # The TLS handshake is refused without a client certificate.
        assert fetch_from("monitor-1", url) in ("SSLError", "URLError", "ConnectionResetError")
        from_commune = run_on(ADDRESS["xa-thanh-hoa-01"], f"curl -sS -m 5 -k -o /dev/null {url}")
        assert from_commune.returncode == 28  # dropped by the firewall: a timeout, not a refusal


def test_the_exporter_runs_sandboxed_as_its_own_user(converged):
    unit = host("db-1").check_output("systemctl show portalops-exporter -p User -p ProtectSystem -p NoNewPrivileges")
    assert "User=portalops-exporter" in unit and "ProtectSystem=strict" in unit and "NoNewPrivileges=yes" in unit


def test_prometheus_and_alertmanager_need_the_password_and_serve_the_runbooks(converged):
    import urllib.error
    import urllib.request

    from deploy.tls import default_ca_dir

    context = ssl.create_default_context(cafile=str(default_ca_dir() / "ca.pem"))
    for port in (9090, 9093):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"https://{ADDRESS['monitor-1']}:{port}/", context=context, timeout=10)
        assert refused.value.code == 401
    runbook = monitor().page("/consoles/runbooks/ServiceDown.html")
    assert "Meaning" in runbook and "Mitigation" in runbook


def test_the_dossier_exporter_reads_counts_but_not_citizens(converged):
    refused = on("db-1", "runuser -u portalops-exporter -- psql -d dichvucong -XtAc "
                         "'SELECT applicant_name FROM dossiers LIMIT 1' 2>&1", check=False)
    assert "permission denied" in refused
    counted = on("db-1", "runuser -u portalops-exporter -- psql -d dichvucong -XtAc 'SELECT count(*) FROM dossiers'")
    assert counted.strip().isdigit()


# --- faults ------------------------------------------------------------------------------------


def short_lived_certificate(days: int) -> tuple[str, str]:
    """A certificate for portal-1 from the lab CA that ends in ``days`` days, and its key (PEM)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from deploy.tls import default_ca_dir, ensure_ca

    ca_cert, ca_key = ensure_ca(default_ca_dir())
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    import ipaddress
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "portal-1")]))
            .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("portal-1"), x509.IPAddress(
                ipaddress.ip_address(ADDRESS["portal-1"]))]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    chain = cert.public_bytes(serialization.Encoding.PEM) + ca_cert.public_bytes(serialization.Encoding.PEM)
    return chain.decode(), key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()).decode()


def put(name: str, path: str, text: str, mode: str = "600") -> None:
    """Write ``text`` to ``path`` on a lab host as root."""
    result = subprocess.run(ssh_command(ADDRESS[name], f"sudo sh -c 'umask 077 && cat > {path} && chmod {mode} {path}'"),
                            input=text, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


ATTACKERS = ["xa-thanh-hoa-01", "portal-1", "db-1"]


def brute_force(target: str) -> None:
    """From three other lab hosts, SSH logins as users that do not exist against ``target``, let
    through the firewall for the test (as from compromised admin workstations), each until
    fail2ban bans it (its connections then time out)."""
    for attacker in ATTACKERS:
        on(target, f"nft insert rule inet portalops input ip saddr {ADDRESS[attacker]} tcp dport 22 accept "
                   f"comment portalops-test-brute-force")
    for attacker in ATTACKERS:
        on(attacker, "test -f /root/.ssh/attacker || ssh-keygen -q -t ed25519 -N '' -f /root/.ssh/attacker")
        on(attacker, f"for n in $(seq 1 12); do timeout 10 ssh -n -i /root/.ssh/attacker -o BatchMode=yes "
                     f"-o StrictHostKeyChecking=no -o ConnectTimeout=3 intruder$n@{ADDRESS[target]} true 2>&1 "
                     f"| grep -q 'timed out' && break; done; true")


def undo_brute_force(target: str) -> None:
    """Remove the test's firewall openings and lift fail2ban's bans."""
    listing = on(target, "nft -a list chain inet portalops input")
    for line in listing.splitlines():
        if "portalops-test-brute-force" in line:
            on(target, f"nft delete rule inet portalops input handle {line.rsplit('# handle ', 1)[1].strip()}")
    on(target, "fail2ban-client unban --all", check=False)


def file_a_dossier(name: str) -> None:
    """A citizen files a dossier on a web host (through the SSO stand-in)."""
    import httpx

    from deploy.tls import default_ca_dir

    context = ssl.create_default_context(cafile=str(default_ca_dir() / "ca.pem"))
    with httpx.Client(verify=context, follow_redirects=True, timeout=20) as browser:
        assert browser.get(f"https://{ADDRESS[name]}/auth/login", params={"login_hint": "001090000002"}).status_code == 200
        filed = browser.post(f"https://{ADDRESS[name]}/api/dossiers", data={"procedure_code": "HT.c.001", "form": "{}"},
                             files=[("files", ("don.pdf", b"%PDF-1.4 sync test", "application/pdf"))])
        assert filed.status_code == 201, filed.text


@dataclass(frozen=True)
class Fault:
    """A fault on a lab host, how to put it right, and the alerts it must raise (alert, host)."""

    inject: object
    undo: object
    alerts: tuple[tuple[str, str], ...]


def _stall_sync():
    on("xa-thanh-hoa-01", "systemctl stop dichvucong-outbox")
    file_a_dossier("xa-thanh-hoa-01")
    on("xa-thanh-hoa-01", "runuser -u postgres -- psql -d dichvucong -XtAc "
                          "\"UPDATE outbox SET created_at = now() - interval '1 hour' WHERE sent_at IS NULL\"")


def _short_certificate():
    on("portal-1", "cp -p /etc/ssl/portalops/server.pem /root/server.pem.orig && "
                   "cp -p /etc/ssl/portalops/server.key /root/server.key.orig")
    chain, key = short_lived_certificate(days=3)
    put("portal-1", "/etc/ssl/portalops/server.key", key)
    put("portal-1", "/etc/ssl/portalops/server.pem", chain, mode="644")
    on("portal-1", "systemctl reload nginx")


UPLOADS = "/var/lib/dichvucong/uploads"
FAULTS = {
    "portal app stopped": Fault(lambda: on("huyen-thanh-hoa", "systemctl stop dichvucong-web"),
                                lambda: on("huyen-thanh-hoa", "systemctl start dichvucong-web"),
                                (("ServiceDown", "huyen-thanh-hoa"), ("PortalEndpointDown", "huyen-thanh-hoa"))),
    "PostgreSQL stopped": Fault(lambda: on("db-1", "systemctl stop postgresql@15-main"),
                                lambda: on("db-1", "systemctl start postgresql@15-main"),
                                (("ServiceDown", "db-1"),)),
    "upload disk nearly full": Fault(
        lambda: on("xa-thanh-hoa-01", f"mount -t tmpfs -o size=8m,mode=750,uid=dichvucong,gid=dichvucong tmpfs "
                                      f"{UPLOADS} && fallocate -l 7700k {UPLOADS}/fill"),
        lambda: on("xa-thanh-hoa-01", f"if mountpoint -q {UPLOADS}; then umount {UPLOADS}; fi"),
        (("StoreAlmostFull", "xa-thanh-hoa-01"),)),
    "certificate near expiry": Fault(
        _short_certificate,
        lambda: on("portal-1", "if [ -f /root/server.pem.orig ]; then "
                               "mv /root/server.pem.orig /etc/ssl/portalops/server.pem && "
                               "mv /root/server.key.orig /etc/ssl/portalops/server.key && systemctl reload nginx; fi"),
        (("CertificateExpiresVerySoon", "portal-1"),)),
    "SSH brute force": Fault(lambda: brute_force("huyen-thanh-hoa"), lambda: undo_brute_force("huyen-thanh-hoa"),
                             (("SSHBruteForce", "huyen-thanh-hoa"), ("Fail2banBanned", "huyen-thanh-hoa"))),
    "file in the web root changed": Fault(
        lambda: on("xa-thanh-hoa-01", "echo '<?php system($_GET[c]);' > /var/www/html/portalops-fault.php"),
        lambda: on("xa-thanh-hoa-01", "rm -f /var/www/html/portalops-fault.php"),
        (("FileIntegrityChanged", "xa-thanh-hoa-01"),)),
    "sync stalled": Fault(_stall_sync, lambda: on("xa-thanh-hoa-01", "systemctl start dichvucong-outbox"),
                          (("SyncStalled", "xa-thanh-hoa-01"),)),
}


@pytest.fixture(scope="module")
def faults(converged):
    """Every fault injected, once for the module; undone by ``undone``."""
    state = {"undone": False}
    try:
        for fault in FAULTS.values():
            fault.inject()
        yield state
    finally:
        if not state["undone"]:
            undo_all()


def undo_all() -> None:
    """Put every fault right, whether or not it was injected (each undo is safe to run twice)."""
    errors = []
    for name, fault in FAULTS.items():
        try:
            fault.undo()
        except AssertionError as error:
            errors.append(f"{name}: {error}")
    assert not errors, errors


@pytest.fixture
def undone(faults):
    """Every fault put right (once)."""
    if not faults["undone"]:
        faults["undone"] = True
        undo_all()


@pytest.mark.parametrize("fault", FAULTS)
def test_a_fault_brings_its_alert_to_alertmanager(faults, fault):
    for alert, name in FAULTS[fault].alerts:
        wait_for(lambda: has_alert(monitor().in_alertmanager(), alert, name), FIRE_SECONDS, what=f"{alert} on {name}")


@pytest.mark.parametrize("fault", FAULTS)
def test_the_alert_clears_once_the_fault_is_undone(undone, fault):
    for alert, name in FAULTS[fault].alerts:
        wait_for(lambda: not has_alert(monitor().in_alertmanager(), alert, name), CLEAR_SECONDS,
                 what=f"{alert} on {name} cleared")
