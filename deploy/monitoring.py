"""Monitoring: every host's agent (Debian's node_exporter and the portalops exporters) and the
monitor host's Prometheus and Alertmanager, with scrape targets derived from the inventory.

Scrapes go only from the monitor hosts (the firewall) and only over TLS with a client
certificate from the deploy's CA: an exporter refuses any other client. Prometheus's and
Alertmanager's own web pages take HTTPS and a generated password (``prometheus-web-password``
in the controller's secrets directory). Every file they read is checked by its own tool
(``promtool``, ``amtool``) before it is put in place, so a bad rule never stops monitoring.
"""

from __future__ import annotations

import hashlib
import json
from io import StringIO

import bcrypt
from portalops_exporters.dossiers import ROLE as DOSSIERS_ROLE
from portalops_exporters.dossiers.queries import READABLE_COLUMNS, grants
from pyinfra import host, logger
from pyinfra.context import state
from pyinfra.api import deploy
from pyinfra.facts.deb import DebPackages
from pyinfra.facts.files import FindFiles
from pyinfra.facts.postgres import PostgresRoles
from pyinfra.operations import apt, files, postgres, server, systemd
from pyinfra.operations.util import any_changed

from deploy import defaults
from deploy.app import install
from deploy.controls import named
from deploy.exporter_config import EXPORTER_ETC, EXPORTER_USER, INTEGRITY_BASELINE, agent_config, dossiers_options, probe_modules
from deploy.operations import validated_file
from deploy.peers import address_of, this_host
from deploy.release import EXPORTERS_SOURCE, distribution, exporters_release
from deploy.runbook_pages import CONSOLES_DIR, runbook_pages
from deploy.scrape_targets import HOST_JOBS, scrape_targets
from deploy.secrets import secret, secrets_dir
from deploy.standard_exporters import NGINX, POSTGRES, DebianExporter
from deploy.templates import render
from deploy.tls import issue

EXPORTER_BASE = "/opt/portalops-exporters"
NODE_EXPORTER_ETC = "/etc/prometheus/node-exporter"
PROMETHEUS_ETC = "/etc/prometheus"
PROMETHEUS_TLS = f"{PROMETHEUS_ETC}/tls"
RULES_DIR = f"{PROMETHEUS_ETC}/rules"
TARGETS_DIR = f"{PROMETHEUS_ETC}/targets"
ALERTMANAGER_CONFIG = f"{PROMETHEUS_ETC}/alertmanager.yml"
WEB_CONFIG = f"{PROMETHEUS_ETC}/web.yml"
WEB_PASSWORD_FILE = f"{PROMETHEUS_ETC}/web-password"
PROMETHEUS_UNIT_MASK = "/etc/systemd/system/prometheus.service"
RULES_SOURCE = EXPORTERS_SOURCE / "rules"
WEB_USER = "portalops"
# Debian's PostgreSQL exporter runs as the account "prometheus"; peer login maps it to this role.
POSTGRES_MONITOR_ROLE = "prometheus"


def web_password(data) -> str:
    """The password of Prometheus's and Alertmanager's web pages (user ``portalops``), generated once."""
    return secret("prometheus-web-password", secrets_dir(data.secrets_dir))


def web_password_hash(password: str) -> str:
    """bcrypt of ``password`` with a salt derived from it, so that a second deploy writes the same file."""
    alphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    digest = hashlib.sha256(b"portalops web salt:" + password.encode()).digest()
    salt = "$2b$10$" + "".join(alphabet[b % 64] for b in digest[:21]) + "."
    return bcrypt.hashpw(password.encode(), salt.encode()).decode()


def tls_files(directory: str, group: str, control: str) -> list:
    """This host's certificate (chain), key and the CA, in ``directory``; the key readable by ``group``."""
    data = host.data
    chain, key, ca = issue(data, host.name, address_of())
    files.directory(name=f"{named(control)}: {directory}", path=directory, user="root", group=group, mode="750")
    return [
        files.put(name=f"{named(control)}: certificate in {directory}", dest=f"{directory}/cert.pem",
                  src=StringIO(chain), mode="644"),
        files.put(name=f"{named(control)}: key in {directory}", dest=f"{directory}/key.pem", src=StringIO(key),
                  user="root", group=group, mode="640"),
        files.put(name=f"{named(control)}: CA in {directory}", dest=f"{directory}/ca.pem", src=StringIO(ca),
                  mode="644"),
    ]


def restart_on(service: str, changed: list, control: str) -> None:
    """Keep ``service`` enabled and running, restarted when any of ``changed`` did change."""
    systemd.service(name=f"{named(control)}: {service} running", service=service, running=True, enabled=True)
    systemd.service(name=f"{named(control)}: {service} restarted", service=service, restarted=True,
                    _if=any_changed(*changed))


def node_exporter() -> None:
    """Debian's node_exporter, answering only TLS clients with a certificate of the deploy's CA."""
    data = host.data
    apt.packages(name=named("mon-01") + ": node_exporter", packages=["prometheus-node-exporter"],
                 no_recommends=True)
    changed = tls_files(NODE_EXPORTER_ETC, "prometheus", "mon-02")
    changed.append(files.put(name=named("mon-02") + ": node_exporter's TLS", dest=f"{NODE_EXPORTER_ETC}/web.yml",
                             src=StringIO(render("exporter-web.yml.j2", data, directory=NODE_EXPORTER_ETC)),
                             group="prometheus", mode="640"))
    changed.append(files.put(
        name=named("mon-02") + ": node_exporter's arguments", dest="/etc/default/prometheus-node-exporter",
        src=StringIO(f'# Written by portalops (deploy/monitoring.py)\nARGS="--web.listen-address=:'
                     f'{data.node_exporter_port} --web.config.file={NODE_EXPORTER_ETC}/web.yml"\n')))
    restart_on("prometheus-node-exporter", changed, "mon-01")


def standard_exporter(exporter: DebianExporter, args: str, environment: str = "", own_tls: bool = True) -> None:
    """One of Debian's exporters (mon-01), with this host's certificate and a web configuration
    asking for the deploy's client certificates (mon-02) unless something in front of it does
    (``own_tls``), its arguments in its /etc/default file (``args``, ``environment`` lines before)."""
    apt.packages(name=f"{named('mon-01')}: {exporter.package}", packages=[exporter.package], no_recommends=True)
    changed = tls_files(exporter.etc, "prometheus", "mon-02") if own_tls else []
    if own_tls:
        changed.append(files.put(name=f"{named('mon-02')}: {exporter.package}'s TLS", dest=f"{exporter.etc}/web.yml",
                                 src=StringIO(render("exporter-web.yml.j2", host.data, directory=exporter.etc)),
                                 group="prometheus", mode="640"))
    changed.append(files.put(name=f"{named('mon-01')}: {exporter.package}'s arguments",
                             dest=f"/etc/default/{exporter.package}", group="prometheus", mode="640",
                             src=StringIO(f"# Written by portalops (deploy/monitoring.py)\n{environment}ARGS=\"{args}\"\n")))
    # The package starts its service at once with an empty configuration; the PostgreSQL
    # exporter then exits until systemd stops trying, and would refuse the start below.
    server.shell(name=f"{named('mon-01')}: {exporter.service} may start again",
                 commands=[f"systemctl reset-failed {exporter.service} || true"], _if=any_changed(*changed))
    restart_on(exporter.service, changed, "mon-01")


def nginx_exporter() -> None:
    """Debian's nginx exporter: nginx's counters from its loopback status page, answered on
    loopback only; nginx serves it to the monitor hosts with mutual TLS (deploy/web.py), since
    this version cannot ask for a client certificate itself."""
    data = host.data
    standard_exporter(NGINX, own_tls=False, args=(
        f"-nginx.scrape-uri=http://127.0.0.1:{data.nginx_status_port}/stub_status "
        f"-web.listen-address=127.0.0.1:{data.nginx_exporter_local_port}"))


def postgres_exporter() -> None:
    """Debian's PostgreSQL exporter, logged in over the local socket as a pg_monitor role (peer:
    no password), answering only TLS clients with a certificate of the deploy's CA."""
    data = host.data
    roles = host.get_fact(PostgresRoles, _sudo_user="postgres") or {}
    if POSTGRES_MONITOR_ROLE not in roles:
        postgres.role(name=named("mon-01") + ": the PostgreSQL exporter's role", role=POSTGRES_MONITOR_ROLE,
                      login=True, _sudo_user="postgres")
        server.shell(name=named("mon-01") + ": the PostgreSQL exporter reads statistics only (pg_monitor)",
                     commands=[f"cd / && psql -XtAc 'GRANT pg_monitor TO {POSTGRES_MONITOR_ROLE}'"],
                     _sudo_user="postgres")
    standard_exporter(POSTGRES, environment=(
        f"DATA_SOURCE_NAME='user={POSTGRES_MONITOR_ROLE} host=/run/postgresql dbname=postgres'\n"),
        args=f"--web.listen-address=:{data.postgres_exporter_port} --web.config.file={POSTGRES.etc}/web.yml")


def install_exporters() -> str:
    """The exporters' release, installed offline into a directory of its own; returns that directory."""
    release, source = exporters_release()
    name, version = distribution(EXPORTERS_SOURCE)
    wheelhouse, target = f"{EXPORTER_BASE}/wheelhouse/{release}", f"{EXPORTER_BASE}/releases/{release}"
    apt.packages(name=named("mon-01") + ": venv", packages=["python3-venv"], no_recommends=True)
    files.directory(name=named("mon-01") + ": releases", path=f"{EXPORTER_BASE}/releases", mode="755")
    files.sync(name=named("mon-01") + ": wheelhouse", src=str(source / "wheelhouse"), dest=wheelhouse, delete=True)
    install(target, wheelhouse, f"{name}=={version}", control="mon-01")
    return target


def _grants_missing(database: str) -> bool:
    """At execution time: the portal's tables exist and the exporter cannot yet read its columns.

    Checked then, because on a first deploy the tables are made later in the same run (the
    portal's migration, on the portal host for the province's database). Tables still
    missing are said so; the next deploy grants.
    """
    pairs = ", ".join(f"('{table}', '{column}')" for table, columns in READABLE_COLUMNS.items() for column in columns)
    sql = (f"SELECT bool_and(has_column_privilege('{DOSSIERS_ROLE}', 'public.' || t, c, 'SELECT')) "
           f"FROM (VALUES {pairs}) AS v(t, c)")
    ok, output = host.run_shell_command(f"cd / && psql -d {database} -XtAc \"{sql}\"", _sudo=True,
                                        _sudo_user="postgres")
    if not ok:
        logger.warning(f"[{host.name}] {named('mon-01')}: the portal's tables are not in {database} yet; "
                       "the dossiers exporter can read them after the next deploy")
        return False
    return output.stdout.strip() != "t"


def dossiers_reader(data) -> None:
    """The database role the dossiers collector logs in as (peer, no password) and its column grants."""
    roles = host.get_fact(PostgresRoles, _sudo_user="postgres") or {}
    if DOSSIERS_ROLE not in roles:
        postgres.role(name=named("mon-01") + ": the dossiers exporter's read-only role", role=DOSSIERS_ROLE,
                      login=True, _sudo_user="postgres")
    database = data.portal_database  # read now: the data's defaults are gone when _if runs
    statements = "; ".join(grants(DOSSIERS_ROLE, database))
    server.shell(name=named("mon-01") + ": the dossiers exporter reads the columns it counts, no more",
                 commands=[f"cd / && psql -d {database} -XtAc '{statements}'"], _sudo_user="postgres",
                 _if=lambda: _grants_missing(database))


@deploy("Monitoring agent", data_defaults=defaults.ALL)
def monitoring_agent():
    """node_exporter (mon-01), Debian's nginx and PostgreSQL exporters where nginx or PostgreSQL
    run, and the portalops exporters (mon-01), scraped over TLS from the monitor hosts (mon-02)."""
    data = host.data
    roles = list(data.roles or [])
    exporters = this_host().exporters
    node_exporter()
    if NGINX.exporter in exporters:
        nginx_exporter()
    if POSTGRES.exporter in exporters:
        postgres_exporter()
    server.user(name=named("mon-01") + ": exporters' account", user=EXPORTER_USER, system=True,
                home=f"/var/lib/{EXPORTER_USER}", shell="/usr/sbin/nologin", create_home=False,
                # the journal, and nginx's logs (root:adm)
                groups=["systemd-journal", "adm"])
    target = install_exporters()
    changed = tls_files(f"{EXPORTER_ETC}/tls", EXPORTER_USER, "mon-02")
    if dossiers_options(data, roles):
        dossiers_reader(data)
    config = agent_config(data, roles, host.name)
    changed.append(files.put(name=named("mon-01") + ": exporters' configuration", dest=f"{EXPORTER_ETC}/agent.json",
                             src=StringIO(json.dumps(config, indent=2, sort_keys=True) + "\n"),
                             group=EXPORTER_USER, mode="640"))
    changed.append(files.put(name=named("mon-01") + ": portalops-exporter.service",
                             dest="/etc/systemd/system/portalops-exporter.service",
                             src=StringIO(render("portalops-exporter.service.j2", data, target=target,
                                                 etc=EXPORTER_ETC, user=EXPORTER_USER))))
    systemd.daemon_reload(name=named("mon-01") + ": units reloaded", _if=any_changed(*changed))
    restart_on(EXPORTER_USER, changed, "mon-01")


def integrity_baseline_renewed() -> None:
    """Last of a deploy: this deploy's own changes are not intrusions. When it changed the host,
    the security exporter takes its file-integrity baseline again at the next scrape; a run
    that changes nothing keeps it, so a change someone else made stays reported until a
    person looks. (A shell command, not files.file: that would decide from a fact read when
    the deploy was planned, before the exporter first wrote its baseline.)"""
    server.shell(name=named("mon-01") + ": integrity baseline renewed after this deploy's changes",
                 commands=[f"rm -f {INTEGRITY_BASELINE}"], _if=host_changed_in_this_run)


def host_changed_in_this_run() -> bool:
    """At execution time: an operation of this deploy run has changed this host already."""
    ops = next(ops for member, ops in state.ops.items() if member.name == host.name)
    return any(data.operation_meta.is_complete() and data.operation_meta.did_change() for data in ops.values())


def web_files(data) -> list:
    """Prometheus's and Alertmanager's web pages: HTTPS with this host's certificate, and a password."""
    password = web_password(data)
    web = render("prometheus-web.yml.j2", data, directory=PROMETHEUS_TLS, user=WEB_USER,
                 password_hash=web_password_hash(password))
    return [
        files.put(name=named("mon-03") + ": web pages' TLS and password", dest=WEB_CONFIG, src=StringIO(web),
                  group="prometheus", mode="640"),
        files.put(name=named("mon-03") + ": the password Prometheus logs in with", dest=WEB_PASSWORD_FILE,
                  src=StringIO(password), group="prometheus", mode="640"),
    ]


def rule_files() -> list:
    """The alert and recording rules, each checked by ``promtool check rules`` before it is put in place."""
    files.directory(name=named("mon-03") + ": rules", path=RULES_DIR, mode="755")
    wanted = sorted(RULES_SOURCE.glob("*.yml"))
    changed = [validated_file(name=f"{named('mon-03')}: rules {path.name}", dest=f"{RULES_DIR}/{path.name}",
                              content=path.read_text(), check="promtool check rules {path}")
               for path in wanted]
    present = host.get_fact(FindFiles, path=RULES_DIR, maxdepth=1, fname="*.yml") or []
    for stale in sorted(set(present) - {f"{RULES_DIR}/{p.name}" for p in wanted}):
        changed.append(files.file(name=f"{named('mon-03')}: old rules {stale} removed", path=stale, present=False))
    return changed


@deploy("Monitoring server", data_defaults=defaults.ALL)
def monitoring_server():
    """Prometheus with targets from the inventory (mon-03), Alertmanager (mon-04), three months kept (mon-05)."""
    data = host.data
    # Debian's package starts Prometheus at once with its own configuration, which scrapes
    # localhost:9100 in plain HTTP and fails; after the restart into ours, that failed sample
    # stays visible for five minutes and pages a HostDown for a target that is not ours. On a
    # new monitor host the unit is masked while the package installs, so that Prometheus's
    # first start is with this deploy's configuration; it is unmasked before that start, on
    # every deploy (so a deploy stopped half-way leaves no mask behind it).
    if "prometheus" not in (host.get_fact(DebPackages) or {}):
        files.link(name=named("mon-03") + ": Prometheus held back while its package installs",
                   path=PROMETHEUS_UNIT_MASK, target="/dev/null")
    apt.packages(name=named("mon-03") + ": Prometheus and Alertmanager",
                 packages=["prometheus", "prometheus-alertmanager"], no_recommends=True)
    changed = tls_files(PROMETHEUS_TLS, "prometheus", "mon-02") + web_files(data)
    files.directory(name=named("mon-03") + ": targets", path=TARGETS_DIR, mode="755")
    for job, targets in scrape_targets(probe_modules(data)).items():
        # file_sd: Prometheus reads these by itself when they change, no reload.
        files.put(name=f"{named('mon-03')}: targets of {job}", dest=f"{TARGETS_DIR}/{job}.json",
                  src=StringIO(json.dumps(targets, indent=2, sort_keys=True) + "\n"), mode="644")
    rules = rule_files()
    files.directory(name=named("mon-04") + ": runbook pages", path=f"{CONSOLES_DIR}/runbooks", mode="755")
    for page, content in runbook_pages().items():
        files.put(name=f"{named('mon-04')}: runbook {page}", dest=f"{CONSOLES_DIR}/runbooks/{page}",
                  src=StringIO(content), mode="644")
    config = validated_file(
        name=named("mon-03") + ": prometheus.yml", dest=f"{PROMETHEUS_ETC}/prometheus.yml", in_place=True,
        content=render("prometheus.yml.j2", data, host_name=host.name, rules_dir=RULES_DIR, targets_dir=TARGETS_DIR,
                       tls_dir=PROMETHEUS_TLS, host_jobs=HOST_JOBS, probe_modules=probe_modules(data),
                       province_code=data.unit_code, web_user=WEB_USER, password_file=WEB_PASSWORD_FILE),
        check="promtool check config {path}", group="prometheus", mode="640")
    arguments = files.put(name=named("mon-05") + ": Prometheus's arguments", dest="/etc/default/prometheus",
                          src=StringIO(render("prometheus.default.j2", data, web_config=WEB_CONFIG,
                                              address=address_of(), consoles=CONSOLES_DIR)))
    unmasked = files.link(name=named("mon-03") + ": Prometheus may start", path=PROMETHEUS_UNIT_MASK, present=False)
    systemd.daemon_reload(name=named("mon-03") + ": Prometheus's unit back", _if=unmasked.did_change)
    restart_on("prometheus", [*changed, arguments], "mon-03")
    systemd.service(name=named("mon-03") + ": Prometheus reloaded", service="prometheus", reloaded=True,
                    _if=any_changed(config, *rules))

    alerting = validated_file(
        name=named("mon-04") + ": alertmanager.yml", dest=ALERTMANAGER_CONFIG, check="amtool check-config {path}",
        content=render("alertmanager.yml.j2", data, alert_smtp=data.alert_smtp), group="prometheus", mode="640")
    am_arguments = files.put(name=named("mon-04") + ": Alertmanager's arguments",
                             dest="/etc/default/prometheus-alertmanager",
                             src=StringIO(render("alertmanager.default.j2", data, web_config=WEB_CONFIG,
                                                 config=ALERTMANAGER_CONFIG, address=address_of())))
    restart_on("prometheus-alertmanager", [*changed, am_arguments], "mon-04")
    systemd.service(name=named("mon-04") + ": Alertmanager reloaded", service="prometheus-alertmanager",
                    reloaded=True, _if=alerting.did_change)
