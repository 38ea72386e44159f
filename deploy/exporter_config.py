"""What the portalops exporter watches on a host, from its roles and the defaults: the agent's
JSON configuration (see monitors/portalops_exporters/cli.py) the monitoring deploy writes.

Nothing here is typed twice: ports come from the defaults, services, stores and listening
ports from the role table (inventory/roles.py), the backups each host must have from the
inventory, the probe targets from the inventory's web hosts.
"""

from __future__ import annotations

from portalops_exporters.dossiers import ROLE as DOSSIERS_ROLE
from portalops_exporters.security.collector import BASELINE_FILE
from portalops_exporters.security.integrity import DEFAULT_GROUPS

from deploy.firewall import port_numbers
from deploy.peers import members_of, present
from inventory.roles import BACKUP_HOSTS, DATABASE_HOSTS, MONITOR_HOSTS, OWN, WEB_HOSTS, HostRoles

EXPORTER_ETC = "/etc/portalops-exporter"
EXPORTER_TLS = f"{EXPORTER_ETC}/tls"
# One name for the exporter's account, its unit, its state directory and its database role
# (PostgreSQL's peer authentication matches the account's name to the role's).
EXPORTER_USER = DOSSIERS_ROLE
EXPORTER_STATE = f"/var/lib/{EXPORTER_USER}"
# The security collector's baseline of watched files; a deploy that changed the host removes
# it, so the next scrape accepts the deploy's own changes (monitoring.py).
INTEGRITY_BASELINE = f"{EXPORTER_STATE}/security/{BASELINE_FILE}"
# Beyond the collector's own groups (web root, nginx, SSH, accounts, firewall): PAM on every
# host, and on web hosts the portal's code and templates as released.
EXTRA_INTEGRITY = {"pam": ["/etc/pam.d", "/etc/security"]}
PORTAL_CODE = {"portal_code": ["/opt/dichvucong/current/lib/python3*/site-packages/dichvucong"]}


def expected_ports(data, roles: list[str]) -> list[int]:
    """TCP ports a host of ``roles`` listens on beyond loopback by design; any other listener
    is drift. (The collector leaves loopback listeners out: the portal's gunicorn, a one-stop
    host's PostgreSQL.)"""
    return sorted(set(port_numbers(data, HostRoles.of(roles).ports(present))))


def services_options(data, roles: list[str], host_name: str) -> dict:
    """The services collector: the services and stores of the host's roles, and the backups
    this host must have made (its own repository; on a backup host, every database host's copy)."""
    host = HostRoles.of(roles)
    options: dict = {"services": host.services(present),
                     "stores": {store.name: store.path_in(data) for store in host.stores}}
    backups: dict[str, list[str]] = {}
    if host.database:
        backups["1"] = [host_name]
    if BACKUP_HOSTS.matches(roles):
        backups["2"] = [name for name, _ in members_of(DATABASE_HOSTS)]
    if backups:
        options["expected_backups"] = backups
    return options


def security_options(data, roles: list[str]) -> dict:
    """The security collector: nginx's logs on web hosts only, the WAF's where it runs, the
    ports this role listens on by design, and the files whose change is an event."""
    web = WEB_HOSTS.matches(roles)
    options: dict = {
        "expected_ports": expected_ports(data, roles),
        "integrity": {**DEFAULT_GROUPS, **EXTRA_INTEGRITY, **(PORTAL_CODE if web else {})},
        # Changes are seen at every scrape (metadata); contents are read again hourly.
        "state_dir": f"{EXPORTER_STATE}/security",
    }
    if not web:
        options.update(nginx_access_log=None, nginx_error_log=None, modsec_audit_log=None)
    elif not data.waf:
        options["modsec_audit_log"] = None
    return options


def dossiers_options(data, roles: list[str]) -> dict | None:
    """The dossiers collector on hosts with the portal's database: the db host (its outbox goes
    to the national portal) and each one-stop host (its own portal's outbox goes to the province)."""
    database = HostRoles.of(roles).database
    if not database:
        return None
    return {"dsn": f"host=/run/postgresql port={data.postgres_port} dbname={data.portal_database} "
                   f"user={DOSSIERS_ROLE}",
            "sync_destination": "province" if database == OWN else "national"}


def agent_config(data, roles: list[str], host_name: str) -> dict:
    """The whole agent configuration of one host."""
    collectors = {"services": services_options(data, roles, host_name), "security": security_options(data, roles)}
    dossiers = dossiers_options(data, roles)
    if dossiers:
        collectors["dossiers"] = dossiers
    probes = {"probe": probe_config(data)} if MONITOR_HOSTS.matches(roles) else {}
    return {**probes,
        "listen": {"address": "0.0.0.0", "port": data.exporter_port},
        "tls": {"cert": f"{EXPORTER_TLS}/cert.pem", "key": f"{EXPORTER_TLS}/key.pem",
                "client_ca": f"{EXPORTER_TLS}/ca.pem"},
        "collectors": collectors,
    }


def journey_enabled(data) -> bool:
    """The journey files (and withdraws) a real dossier through the national SSO: only where the
    inventory turns it on (the lab, whose SSO stand-in knows the test citizen)."""
    return bool(data.journey_probe)


def probe_config(data) -> dict:
    """The probe modules of the monitor host, blackbox-style (monitors/portalops_exporters/probe)."""
    tls = {"ca_file": f"{EXPORTER_TLS}/ca.pem"}
    modules = {
        "https_portal": {"prober": "http", "timeout": "5s", "http": {
            "fail_if_not_ssl": True, "valid_status_codes": [200], "tls_config": tls,
            "fail_if_body_not_matches_regexp": ['"status": ?"ready"']}},
        "tls_expiry": {"prober": "tcp", "timeout": "5s", "tcp": {"tls": True, "tls_config": tls}},
    }
    if journey_enabled(data):
        modules["journey"] = {"prober": "journey", "timeout": data.journey_probe_timeout, "journey": {
            "citizen": data.journey_citizen, "sso_issuer": data.national_sso_url,
            "catalogue_query": data.journey_catalogue_query, "procedure_code": data.journey_procedure_code,
            "tls_config": tls}}
    return {"modules": modules}


def probe_modules(data) -> list[str]:
    """The probe modules the monitor host runs (their targets: deploy/scrape_targets.py)."""
    return sorted(probe_config(data)["modules"])
