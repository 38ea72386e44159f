"""What the lab hides and a real province's servers need, on the session's converged lab: the
national-service stand-ins on a host of their own, ``admins`` as the whole list, guards that
refuse before any change, one credential per one-stop host, rollouts that stop at the canary,
and the outside test's findings (exporter behind client certificates, certificate lifetimes,
the payment callback's limits, bodies that are not JSON, planted SSH keys).
"""

import datetime
import json
import subprocess
import time

import httpx
import pytest

from deploy.app import SECRETS
from deploy.tls import default_ca_dir
from lab import settings
from lab.lifecycle import lab_data
from lab.ssh import run_on
from tests.lab.province import ADDRESS, FRESH_REFUSALS, deploy, fetch_from, host, portalops, psql

pytestmark = pytest.mark.lab

PROVINCE_HOSTS = ["portal-1", "db-1", "monitor-1", "huyen-thanh-hoa", "xa-thanh-hoa-01"]
PROVINCE_UNIT, DISTRICT_UNIT, COMMUNE_UNIT = "000.00.00.H56", "000.00.11.H56", "000.01.11.H56"
SYNC = f"https://{ADDRESS['portal-1']}:8443/api/sync"
CLIENT = f"--cacert /etc/dichvucong/ca.pem --cert {SECRETS}/sync_client.pem --key {SECRETS}/sync_client.key"


# 1. The national-service stand-ins are the lab's outside party.

def test_the_stand_ins_run_on_the_labs_own_host_and_on_no_province_host(converged):
    standins = run_on(settings.NATIONAL_ADDRESS, f"curl -sf http://127.0.0.1:{settings.NATIONAL_PORT}/healthz")
    assert standins.returncode == 0 and "ok" in standins.stdout
    assert settings.NATIONAL_HOST not in (settings.UNITS_FILE.read_text())
    for name in PROVINCE_HOSTS:
        node = host(name)
        assert not node.file("/etc/systemd/system/dichvucong-standins.service").exists, name
        assert not node.socket(f"tcp://0.0.0.0:{settings.NATIONAL_PORT}").is_listening, name
        assert "8900" not in node.check_output("nft list ruleset"), name
        assert "national_token" not in node.run(f"ls {SECRETS}").stdout or name == "portal-1", name
    # The monitor host keeps no secret of the portals' at all.
    assert not host("monitor-1").file(SECRETS).exists


def test_a_host_that_had_the_stand_ins_loses_them_at_the_next_deploy(converged):
    node = host("monitor-1")
    node.run_test("mkdir -p /var/lib/dichvucong/standins /opt/dichvucong/releases/0.9-old-standins "
                  f"{SECRETS} && echo secret > {SECRETS}/national_token && echo secret > {SECRETS}/payment_secret")
    node.run_test("printf '[Service]\\nExecStart=/bin/sleep infinity\\n[Install]\\nWantedBy=multi-user.target\\n'"
                  " > /etc/systemd/system/dichvucong-standins.service && systemctl daemon-reload"
                  " && systemctl enable --now dichvucong-standins")
    assert node.service("dichvucong-standins").is_running
    result, rows = deploy("--limit", "monitor-1")
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    assert not node.service("dichvucong-standins").is_running
    for path in ("/etc/systemd/system/dichvucong-standins.service", "/var/lib/dichvucong/standins",
                 "/opt/dichvucong/releases/0.9-old-standins", SECRETS):
        assert not node.file(path).exists, path


def test_the_province_portal_reaches_the_national_services_as_an_outside_service(converged):
    env = host("portal-1").check_output("cat /opt/dichvucong/current/env")
    base = f"http://{settings.NATIONAL_ADDRESS}:{settings.NATIONAL_PORT}"
    assert f"DVC_SSO_ISSUER={base}/sso" in env and f"DVC_SYNC_URL={base}/national" in env
    assert f"DVC_PAYMENT_URL={base}/gateway" in env


# 2. ``admins`` is the whole list.

def ssh_as(user, key, name="xa-thanh-hoa-01"):
    """One real SSH login to a lab host; its completed process."""
    return subprocess.run(["ssh", "-i", str(key), "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
                           "-o", f"UserKnownHostsFile={settings.KNOWN_HOSTS}", "-o", "ConnectTimeout=10",
                           f"{user}@{ADDRESS[name]}", "id -un"], capture_output=True, text=True, timeout=60)


def admins_with(extra):
    return "admins=" + json.dumps([*lab_data()["admins"], *extra])


@pytest.fixture
def keys(tmp_path):
    made = []
    for number in (1, 2):
        path = tmp_path / f"key{number}"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
        made.append((path, (tmp_path / f"key{number}.pub").read_text().strip()))
    return made


def test_an_admin_is_added_their_rotated_key_replaces_the_old_and_removed_they_are_locked_out(converged, keys):
    (first, first_pub), (second, second_pub) = keys
    name, node = "canbomoi", host("xa-thanh-hoa-01")
    result, rows = deploy("--limit", "xa-thanh-hoa-01", "--data", admins_with([{"name": name, "keys": [first_pub]}]))
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    assert ssh_as(name, first).stdout.strip() == name

    deploy("--limit", "xa-thanh-hoa-01")  # taken off the list...
    assert ssh_as(name, first).returncode == 255
    # ...and listed again, with a new key: the old one stays refused, the new one works.
    deploy("--limit", "xa-thanh-hoa-01", "--data", admins_with([{"name": name, "keys": [second_pub]}]))
    assert ssh_as(name, first).returncode == 255  # the rotated-out key
    assert ssh_as(name, second).stdout.strip() == name

    result, rows = deploy("--limit", "xa-thanh-hoa-01")  # the lab's own list: they are gone from it
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    refused = ssh_as(name, second)
    assert refused.returncode == 255 and "Permission denied" in refused.stderr
    user = node.user(name)
    assert user.exists and node.file(f"/home/{name}").is_directory  # kept for the record
    assert not {"sudo", "ssh-users"} & set(user.groups)
    assert user.shell == "/usr/sbin/nologin" and user.expiration_date is not None
    assert not node.file(f"/home/{name}/.ssh/authorized_keys").exists
    assert name not in node.check_output("cat /etc/sudoers.d/portalops-admins")
    assert "offboarded" in node.check_output("journalctl -t portalops --no-pager -n 20")
    # The deploy's own login is never touched.
    assert run_on(ADDRESS["xa-thanh-hoa-01"], "true").returncode == 0


# 3. Every guard runs before the first change.

@pytest.mark.parametrize("name,why", [("huyen-thanh-hoa", "not in 'admins'"),
                                      ("xa-thanh-hoa-01", "outside admin_networks")])
def test_a_refused_deploy_leaves_a_fresh_host_exactly_as_it_was(converged, name, why):
    assert name in FRESH_REFUSALS, "needs a fresh lab (not PORTALOPS_REUSE_LAB=1): see tests/lab/conftest.py"
    result, rows, before, after = FRESH_REFUSALS[name]
    assert rows[name][0] == "failed" and "[guard]" in rows[name][-1]
    assert why in result.stderr
    assert before == after  # users, sudoers, sshd_config, packages, firewall, every file in /etc


# 4. One credential per one-stop host.

def sync_from(name, kind, message, client=CLIENT):
    """POST a sync message from a one-stop host to the province with that host's own certificate."""
    body = json.dumps(message).replace("'", "'\\''")
    out = host(name).run(f"curl -s -o /dev/null -w '%{{http_code}}' {client} -H 'Content-Type: application/json' "
                         f"--data '{body}' {SYNC}/{kind}")
    return out.stdout.strip()


def dossier_message(unit, code, sender_unit=None):
    """A DongBoHoSoMC message for ``unit``'s dossier ``code``, numbered by ``sender_unit``."""
    now = datetime.datetime.now(datetime.timezone.utc)
    return {"message_id": f"{sender_unit or unit}/probe-{code}", "code": code, "unit_code": unit, "origin_unit": unit,
            "procedure_code": "HT.c.001", "applicant": {"sub": "001099000009", "name": "Thử Nghiệm"},
            "channel": 2, "status": 1, "level": 4, "fee_vnd": 0, "submitted_at": now.isoformat(),
            "due_at": (now + datetime.timedelta(days=3)).isoformat()}


def code_for(unit, serial):
    return f"{unit}-{datetime.date.today():%y%m%d}-{serial:04d}"


def test_a_one_stop_host_syncs_its_own_units_dossiers_and_is_refused_anothers(converged):
    own = code_for(COMMUNE_UNIT, 9901)
    assert sync_from("xa-thanh-hoa-01", "DongBoHoSoMC", dossier_message(COMMUNE_UNIT, own)) == "200"
    foreign = code_for(DISTRICT_UNIT, 9902)
    assert sync_from("xa-thanh-hoa-01", "DongBoHoSoMC", dossier_message(DISTRICT_UNIT, foreign, COMMUNE_UNIT)) == "403"
    # A dossier of the district, synced by the district's own host; the commune may not move it.
    district_dossier = code_for(DISTRICT_UNIT, 9906)
    assert sync_from("huyen-thanh-hoa", "DongBoHoSoMC", dossier_message(DISTRICT_UNIT, district_dossier)) == "200"
    move = {"message_id": f"{COMMUNE_UNIT}/probe-move", "code": district_dossier, "status": 10, "actor": "x",
            "note": "forged"}
    assert sync_from("xa-thanh-hoa-01", "CapNhatTienDoHoSoMC", move) == "403"
    assert psql("db-1", f"select status from dossiers where code = '{district_dossier}'", "dichvucong") == "1"
    assert psql("db-1", f"select count(*) from dossiers where code = '{foreign}'", "dichvucong") == "0"
    kinds = psql("db-1", "select string_agg(distinct kind, ',') from security_events where kind like 'sync_%'",
                 "dichvucong")
    assert "sync_foreign_unit" in kinds
    # Without a client certificate the listener does not even read the message.
    assert sync_from("xa-thanh-hoa-01", "DongBoHoSoMC", dossier_message(COMMUNE_UNIT, own),
                     client="--cacert /etc/dichvucong/ca.pem") == "400"


def test_a_revoked_one_stop_host_is_refused_and_the_others_keep_syncing(converged):
    revoked = default_ca_dir() / "revoked"
    kept = revoked.read_text() if revoked.exists() else ""
    assert portalops("tls", "revoke", "xa-thanh-hoa-01").returncode == 0
    try:
        result, _ = deploy("--limit", "portal-1")
        assert result.returncode == 0, result.stdout + result.stderr[-2000:]
        message = dossier_message(COMMUNE_UNIT, code_for(COMMUNE_UNIT, 9903))
        assert sync_from("xa-thanh-hoa-01", "DongBoHoSoMC", message) == "400"  # nginx: certificate revoked
        district = dossier_message(DISTRICT_UNIT, code_for(DISTRICT_UNIT, 9904))
        assert sync_from("huyen-thanh-hoa", "DongBoHoSoMC", district) == "200"
    finally:
        revoked.write_text(kept)
        deploy("--limit", "portal-1")
    assert sync_from("xa-thanh-hoa-01", "DongBoHoSoMC", message) == "200"


def test_no_one_stop_host_holds_the_provinces_merchant_key(converged):
    province_key = host("portal-1").check_output(f"cat {SECRETS}/payment_secret")
    for name in ("huyen-thanh-hoa", "xa-thanh-hoa-01"):
        node = host(name)
        assert node.check_output(f"cat {SECRETS}/payment_secret") != province_key
        assert node.run(f"grep -rlF -- '{province_key}' /etc /opt/dichvucong 2>/dev/null").stdout == ""
        assert not node.file(f"{SECRETS}/sync_token").exists  # no shared sync token either


def test_a_foreign_unit_sync_raises_an_alert_in_alertmanager(converged):
    from portalops.prometheus import monitor_of
    from inventory.entries import inventory_entries

    sync_from("xa-thanh-hoa-01", "DongBoHoSoMC",
              dossier_message(DISTRICT_UNIT, code_for(DISTRICT_UNIT, 9905), COMMUNE_UNIT))
    monitor = monitor_of(inventory_entries(str(settings.INVENTORY_FILE)))
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        names = {alert["labels"]["alertname"] for alert in monitor.alerts()}
        if "SyncFromAnotherUnit" in names:
            break
        time.sleep(10)
    assert "SyncFromAnotherUnit" in names


# 5. Rollouts that stop before they reach every commune.

def test_a_release_failing_its_health_check_on_the_canary_stops_the_rollout(converged):
    current = {name: host(name).check_output("readlink /opt/dichvucong/current")
               for name in ("portal-1", "huyen-thanh-hoa", "xa-thanh-hoa-01")}
    result = portalops("deploy", str(settings.INVENTORY_FILE), "--batch", "2", "--canary", "xa-thanh-hoa-01",
                       "--data", 'portal_extra_env={"DVC_DB_POOL_SIZE": "not-a-number"}')
    assert result.returncode == 1, result.stdout
    assert "not touched" in result.stdout
    for name in ("portal-1", "db-1", "monitor-1", "huyen-thanh-hoa"):
        assert name in result.stdout.split("not touched", 1)[1], name
    # The canary switched back by itself; nobody else got the release.
    assert {name: host(name).check_output("readlink /opt/dichvucong/current") for name in current} == current
    assert "not-a-number" not in host("portal-1").check_output("cat /opt/dichvucong/current/env")
    assert httpx.get(f"https://{ADDRESS['xa-thanh-hoa-01']}/readyz", verify=False).status_code == 200


# 6. What an outside test found.

def fetch_from_monitor(url, cert=None, key=None):
    """What the monitor host gets from ``url`` (a status, or the error's kind), as a client with ``cert``."""
    return fetch_from("monitor-1", url, cert=cert, key=key)


def test_the_nginx_exporter_answers_only_a_client_with_the_deploys_certificate(converged):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "foreign")])
    now = datetime.datetime.now(datetime.timezone.utc)
    foreign = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
               .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
               .sign(key, hashes.SHA256()))
    node = host("monitor-1")
    pem = foreign.public_bytes(serialization.Encoding.PEM).decode()
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    node.run_test(f"printf '%s' '{pem}' > /tmp/foreign.pem && printf '%s' '{key_pem}' > /tmp/foreign.key")
    url = f"https://{ADDRESS['portal-1']}:9113/metrics"
    assert fetch_from_monitor(url) in ("SSLError", "URLError", "HTTPError", "RemoteDisconnected")
    assert fetch_from_monitor(url, "/tmp/foreign.pem", "/tmp/foreign.key") in (
        "SSLError", "URLError", "HTTPError", "RemoteDisconnected")
    assert fetch_from_monitor(url, "/etc/prometheus/tls/cert.pem", "/etc/prometheus/tls/key.pem") == "200"
    # Debian's exporter itself answers on loopback only.
    assert not host("portal-1").socket("tcp://0.0.0.0:9114").is_listening
    assert host("portal-1").socket("tcp://127.0.0.1:9114").is_listening


def test_the_hosts_certificates_are_valid_a_year_at_most(converged):
    from cryptography import x509

    for name in PROVINCE_HOSTS:
        path = default_ca_dir() / "issued" / f"{name}.pem"
        cert = x509.load_pem_x509_certificate(path.read_bytes())
        assert cert.not_valid_after_utc - cert.not_valid_before_utc <= datetime.timedelta(days=366), path.name
    served = subprocess.run(f"openssl s_client -connect {ADDRESS['portal-1']}:443 </dev/null 2>/dev/null"
                            " | openssl x509 -noout -dates", shell=True, capture_output=True, text=True).stdout
    begin, end = (datetime.datetime.strptime(line.split("=", 1)[1], "%b %d %H:%M:%S %Y %Z")
                  for line in served.splitlines())
    assert end - begin <= datetime.timedelta(days=366)


def test_a_body_that_is_not_json_is_refused_with_400(converged):
    with httpx.Client(verify=False, timeout=10) as client:
        answer = client.post(f"https://{ADDRESS['portal-1']}/api/payments/confirm", content=b"order_id=1&paid",
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 400
    out = host("xa-thanh-hoa-01").run(f"curl -s -o /dev/null -w '%{{http_code}}' {CLIENT} "
                                      f"-H 'Content-Type: application/json' --data 'not json' {SYNC}/DongBoHoSoMC")
    assert out.stdout.strip() == "400"


def test_a_flood_of_forged_payment_callbacks_is_cut_and_bounded(converged):
    before = int(psql("db-1", "select count(*) from security_events", "dichvucong"))
    forged = {"merchant": PROVINCE_UNIT, "order_id": "1-forged", "amount": 1, "status": "success",
              "transaction_id": "x", "checksum": "0" * 64}
    with httpx.Client(verify=False, timeout=10) as client:
        codes = [client.post(f"https://{ADDRESS['portal-1']}/api/payments/confirm", json=forged).status_code
                 for _ in range(150)]
    # nginx lets 60 a minute through with a burst of 20; the rest never reach the portal.
    assert codes.count(429) >= 50 and codes.count(403) <= 20 + 60 * 2
    written = int(psql("db-1", "select count(*) from security_events", "dichvucong")) - before
    assert written <= codes.count(403)


def test_a_planted_ssh_key_is_seen_by_the_integrity_watch(converged):
    node = host("db-1")
    node.run_test("mkdir -p /root/.ssh && echo 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPlantedPlantedPlantedPlanted"
                  "Planted00 intruder' >> /root/.ssh/authorized_keys")
    try:
        from portalops.prometheus import monitor_of
        from inventory.entries import inventory_entries

        monitor = monitor_of(inventory_entries(str(settings.INVENTORY_FILE)))
        query = 'portalops_security_integrity_changed{instance="db-1", group="ssh_keys"}'
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            found = monitor.query(query)
            if found and float(found[0]["value"][1]) == 1:
                break
            time.sleep(5)
        assert found and float(found[0]["value"][1]) == 1
    finally:
        node.run("sed -i '/intruder$/d' /root/.ssh/authorized_keys; "
                 "[ -s /root/.ssh/authorized_keys ] || rm -f /root/.ssh/authorized_keys")


# 7. The controller is not a single point of failure.

def test_a_second_controller_restores_a_backup_and_redeploys_from_the_escrow_alone(converged, tmp_path):
    import os

    from tests.lab.province import PORTALOPS

    identity = tmp_path / "custodian.key"
    subprocess.run(["age-keygen", "-o", str(identity)], check=True, capture_output=True)
    recipient = next(line.split(": ", 1)[1] for line in identity.read_text().splitlines() if "public key" in line)
    escrow = tmp_path / "escrow.age"
    exported = portalops("secrets", "export", "--to", str(escrow), "--recipient", recipient)
    assert exported.returncode == 0, exported.stderr
    assert escrow.stat().st_mode & 0o777 == 0o600 and b"BEGIN" not in escrow.read_bytes()[:200]

    # The second operator's controller: empty secret and CA directories, filled from the escrow only.
    second = {**os.environ, "PORTALOPS_SECRETS_DIR": str(tmp_path / "secrets"),
              "PORTALOPS_CA_DIR": str(tmp_path / "ca")}

    def on_second(*args):
        return subprocess.run([PORTALOPS, *args], capture_output=True, text=True, timeout=1800, env=second)

    imported = on_second("secrets", "import", "--from", str(escrow), "--identity", str(identity))
    assert imported.returncode == 0, imported.stderr
    name = "xa-thanh-hoa-01"
    psql(name, "drop table if exists escrow_probe; create table escrow_probe(v text); insert into escrow_probe values ('kept')")
    restored = on_second("restore", str(settings.INVENTORY_FILE), name, "--yes")
    assert restored.returncode == 0, restored.stdout + restored.stderr[-3000:]
    assert psql(name, "select v from escrow_probe") == "kept"  # the backup's passphrase came from the escrow
    redeployed = on_second("deploy", str(settings.INVENTORY_FILE), "--limit", name)
    assert redeployed.returncode == 0, redeployed.stdout + redeployed.stderr[-3000:]
    # Same secrets, same CA, same certificates: nothing on the host needs to change.
    assert "0 operations changed" in redeployed.stdout, redeployed.stdout
