"""The monitor host's files as the deploy renders them are accepted by Prometheus's and
Alertmanager's own checkers, with the repository's rules; the exporter's configuration
follows the host's roles."""

import shutil
import subprocess
from types import SimpleNamespace

import pytest

from deploy import defaults
from deploy.exporter_config import agent_config, expected_ports, probe_modules
from deploy.monitoring import RULES_SOURCE, web_password_hash
from deploy.scrape_targets import HOST_JOBS
from deploy.templates import render
from deploy.tls import host_certificate

needs = pytest.mark.skipif(not (shutil.which("promtool") and shutil.which("amtool")),
                           reason="promtool and amtool (Debian packages prometheus, prometheus-alertmanager) missing")


def data(**overrides):
    return SimpleNamespace(**{**defaults.ALL, **overrides})


def check(*command):
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@needs
def test_prometheus_accepts_the_rendered_configuration_with_the_rules_and_its_web_config(tmp_path):
    tls = tmp_path / "tls"
    tls.mkdir()
    chain, key, ca = host_certificate(tmp_path / "ca", "monitor-1", "198.18.0.12", None)
    for name, text in (("cert.pem", chain), ("key.pem", key), ("ca.pem", ca), ("password", "x")):
        (tls / name).write_text(text)
    rules = tmp_path / "rules"
    shutil.copytree(RULES_SOURCE, rules, ignore=shutil.ignore_patterns("tests"))
    host = data(journey_probe=True)
    config = tmp_path / "prometheus.yml"
    config.write_text(render("prometheus.yml.j2", host, host_name="monitor-1", rules_dir=str(rules),
                             targets_dir=str(tmp_path), tls_dir=str(tls), host_jobs=HOST_JOBS,
                             probe_modules=probe_modules(host), province_code="000.00.00.H56", web_user="portalops",
                             password_file=str(tls / "password")))
    check("promtool", "check", "config", str(config))
    web = tmp_path / "web.yml"
    web.write_text(render("prometheus-web.yml.j2", host, directory=str(tls), user="portalops",
                          password_hash=web_password_hash("secret")))
    check("promtool", "check", "web-config", str(web))


@needs
@pytest.mark.parametrize("smtp, hooks", [(None, []), ({"smarthost": "mail.h56:587", "sender": "canhbao@h56",
                                                         "to": ["trucca@h56"]}, ["https://chat.h56/hook"])])
def test_alertmanager_accepts_the_rendered_configuration(tmp_path, smtp, hooks):
    config = tmp_path / "alertmanager.yml"
    config.write_text(render("alertmanager.yml.j2", data(alert_webhook_urls=hooks), alert_smtp=smtp))
    check("amtool", "check-config", str(config))


def test_the_password_hash_is_the_same_on_every_deploy_and_checks_the_password():
    import bcrypt

    first = web_password_hash("mật khẩu")
    assert first == web_password_hash("mật khẩu") != web_password_hash("other")
    assert bcrypt.checkpw("mật khẩu".encode(), first.encode())


def test_each_role_listens_where_its_exporter_expects_and_nowhere_else(monkeypatch):
    monkeypatch.setattr("deploy.peers.members_of", lambda *kinds: [("monitor-1", "198.18.0.12")])
    host = data()
    # A one-stop host's PostgreSQL, nginx's status page and Debian's nginx exporter itself are
    # loopback only; nginx (9113) and PostgreSQL's exporter (9187) answer the monitor hosts;
    # the province's portal takes the one-stop hosts' sync on 8443. No host listens for the
    # national-service stand-ins (8900): they are the lab's, on a host of their own.
    assert expected_ports(host, ["onestop"]) == [22, 80, 443, 8432, 9100, 9113, 9120, 9187]
    assert expected_ports(host, ["portal"]) == [22, 80, 443, 8443, 9100, 9113, 9120]
    assert expected_ports(host, ["db"]) == [22, 5432, 8432, 9100, 9120, 9187]
    assert expected_ports(host, ["monitor", "backup"]) == [22, 8432, 9090, 9093, 9100, 9120]


def test_the_agent_runs_the_dossier_collector_only_beside_a_database_and_probes_only_on_the_monitor(monkeypatch):
    monkeypatch.setattr("deploy.exporter_config.members_of", lambda *kinds: [("db-1", "198.18.0.11")])
    monkeypatch.setattr("deploy.peers.members_of", lambda *kinds: [("db-1", "198.18.0.11")])
    host = data()
    onestop = agent_config(host, ["onestop"], "xa-1")
    assert onestop["collectors"]["dossiers"]["sync_destination"] == "province"
    assert onestop["collectors"]["services"]["expected_backups"] == {"1": ["xa-1"]}
    assert "probe" not in onestop
    portal = agent_config(host, ["portal"], "portal-1")
    assert set(portal["collectors"]) == {"services", "security"}
    monitor = agent_config(host, ["monitor", "backup"], "monitor-1")
    # The journey needs a test citizen at the national SSO: only where the inventory says so.
    assert set(monitor["probe"]["modules"]) == {"https_portal", "tls_expiry"}
    journey = agent_config(data(journey_probe=True, national_sso_url="http://198.18.5.1:8900/sso"),
                           ["monitor", "backup"], "monitor-1")["probe"]["modules"]["journey"]
    assert journey["journey"]["sso_issuer"] == "http://198.18.5.1:8900/sso"
    assert monitor["collectors"]["services"]["expected_backups"] == {"2": ["db-1"]}
    assert monitor["collectors"]["security"]["nginx_access_log"] is None  # no nginx there
