"""Backups with pgBackRest: every PostgreSQL host keeps its own repository and a copy on the
backup host, both encrypted, with retention, taken daily by systemd timers.

- On a database host (db, one-stop): the stanza is the host's name; WAL goes to both
  repositories as it is written (``archive_command``); a differential backup into its
  own repository (repo1) every day and a full one each week.
- On the backup host: pgBackRest's TLS server holds repo2 for every database host of
  the inventory, and takes each host's backup into it, the same way, later in the night.
- The hosts authenticate each other with certificates from the deploy's CA (client
  certificate common name = host name), over ``backup_port``, which the firewall opens
  between these hosts only. Restores: ``portalops restore`` (deploy/restore.py).

The encryption passphrases are generated on the controller (secrets_dir), one per
database host's repository and one for the backup host's.
"""

from __future__ import annotations

import shlex
from io import StringIO
from pathlib import Path

from pyinfra import host, logger
from pyinfra.api import deploy
from pyinfra.operations import apt, files, server, systemd
from pyinfra.operations.util import any_changed

from deploy import defaults
from deploy.controls import named
from deploy.facts import PgBackRestBackups, backup_count, backups_command
from deploy.peers import address_of, members_of
from deploy.operations import refuse
from deploy.secrets import secret, secrets_dir
from deploy.templates import render
from deploy.tls import issue
from inventory.roles import BACKUP_HOSTS, DATABASE_HOSTS

CONFIG = "/etc/pgbackrest.conf"  # where Debian's pgBackRest reads it
TLS_DIR = "/etc/pgbackrest/tls"
SCRIPT = Path(__file__).with_name("files") / "portalops-backup"
BACKUP_COMMAND = "/usr/local/sbin/portalops-backup"
LOCAL_REPO, COPY_REPO = 1, 2
AS_POSTGRES = {"_sudo_user": "postgres", "_chdir": "/"}


def cipher_pass(data, repository: str) -> str:
    """The passphrase a repository is encrypted with (generated once on the controller)."""
    return secret(f"pgbackrest-{repository}", secrets_dir(data.secrets_dir))


def _common(control: str, address: str, peers: list[tuple[str, str]]) -> list:
    """pgBackRest, the host's certificate for its TLS server and client, and the peers' names.

    pgBackRest checks a peer's certificate by name, not address, so the peers' names go to
    /etc/hosts (from the inventory).
    """
    apt.packages(name=named(control) + ": pgBackRest", packages=["pgbackrest"], no_recommends=True)
    chain, key, ca = issue(host.data, host.name, address)
    files.directory(name=named("bak-03") + ": certificate directory", path=TLS_DIR, user="postgres",
                    group="postgres", mode="700")
    changes = [files.put(name=f"{named('bak-03')}: {name}", dest=f"{TLS_DIR}/{name}", src=StringIO(text),
                         user="postgres", group="postgres", mode=mode)
               for name, text, mode in (("host.pem", chain, "644"), ("host.key", key, "600"), ("ca.pem", ca, "644"))]
    files.block(name=named("bak-03") + ": peers' names", path="/etc/hosts", marker="# {mark} portalops backup peers",
                content="\n".join(f"{address}\t{name}" for name, address in peers))
    return changes


def _timer(repo: int, stanzas: list[str], schedule: str) -> None:
    """The daily unit and timer that back ``stanzas`` up into ``repo``."""
    unit = f"portalops-backup-repo{repo}"
    control = named("bak-01" if repo == LOCAL_REPO else "bak-02")
    units = [files.put(name=f"{control}: {unit}.{kind}", dest=f"/etc/systemd/system/{unit}.{kind}",
                       src=StringIO(render(f"portalops-backup.{kind}.j2", host.data, repo=repo, stanzas=stanzas,
                                           schedule=schedule, command=BACKUP_COMMAND)))
             for kind in ("service", "timer")]
    systemd.daemon_reload(name=control + ": units reloaded", _if=any_changed(*units))
    systemd.service(name=control + ": timer", service=f"{unit}.timer", running=True, enabled=True)


def _server(control: str, config, certificates: list) -> None:
    """pgBackRest's TLS server (Debian's pgbackrest.service), restarted for new settings."""
    systemd.service(name=named(control) + ": TLS server restarted for new settings", service="pgbackrest",
                    restarted=True, _if=any_changed(config, *certificates))
    systemd.service(name=named(control) + ": TLS server", service="pgbackrest", running=True, enabled=True)


def _stanza_waits_for_copy(stanza: str) -> bool:
    """At execution time: the stanza is in the copy and has no backup yet.

    Checked then, not when the deploy is planned, because on a first deploy the database
    host creates its stanza earlier in the same run. A stanza still missing (its host not
    deployed yet, e.g. under --limit) is said so; the next deploy copies it.
    """
    _, output = host.run_shell_command(backups_command(stanza, COPY_REPO), _sudo=True, _sudo_user="postgres")
    count = backup_count(output.stdout_lines)
    if count is None:
        logger.warning(f"[{host.name}] {named('bak-02')}: {stanza} has no stanza in the copy yet "
                       "(deploy that host); its copy is made by the next deploy")
    return count == 0


def _barrier(path: str, purpose: str) -> None:
    """A directory every backup and database host owns, made here to order the hosts too.

    pyinfra orders operations across hosts only through the operations they share, so
    this one (same call on every such host) holds the database hosts until the backup
    hosts are through what comes before it, and the other way round.
    """
    files.directory(name=f"{named('bak-01')}: {path} ({purpose})", path=path, user="postgres", group="postgres",
                    mode="750")


@deploy("Backups", data_defaults=defaults.ALL)
def backups():
    """pgBackRest on database hosts (bak-01) and backup hosts (bak-02), in an order that lets
    a first deploy of both complete in one run: the backup hosts' servers, then the database
    hosts' stanzas and first backups, then the first copies."""
    data = host.data
    roles = data.roles or []
    is_database, is_copy = DATABASE_HOSTS.matches(roles), BACKUP_HOSTS.matches(roles)
    databases, copies = members_of(DATABASE_HOSTS), members_of(BACKUP_HOSTS)
    if is_database and is_copy:
        refuse(name="[guard] the copy lives on another host",
               reason="a host cannot be both a database host and a backup host: the copy would sit on the "
                      "machine it protects; give the backup role to another host")
        return
    if is_copy and not databases:
        host.noop(named("bak-02") + ": no database host in the inventory")
        return
    copy_host = copies[0][0] if copies else None
    certificates = _common("bak-01", address_of(), copies if is_database else databases)
    files.directory(name=named("bak-01") + ": repository", path=data.backup_repo_path, user="postgres",
                    group="postgres", mode="750")
    if is_copy:
        text = render("pgbackrest-copy.conf.j2", data, address=address_of(), databases=databases,
                      cipher_pass=cipher_pass(data, "copy"))
    else:
        text = render("pgbackrest-db.conf.j2", data, stanza=host.name, address=address_of(), copy_host=copy_host,
                      copy_clients=[name for name, _ in copies], cipher_pass=cipher_pass(data, host.name))
    config = files.put(name=named("bak-01") + ": pgbackrest.conf", dest=CONFIG, user="postgres", group="postgres",
                       mode="600", src=StringIO(text))
    if is_copy or copy_host:
        _server("bak-03", config, certificates)
    _barrier("/var/spool/pgbackrest", "after the backup hosts' servers")
    files.put(name=named("bak-01") + ": backup script", src=str(SCRIPT), dest=BACKUP_COMMAND, mode="755")

    if is_database:
        stanza = host.name
        local = host.get_fact(PgBackRestBackups, stanza=stanza, repo=LOCAL_REPO, **AS_POSTGRES)
        copy = host.get_fact(PgBackRestBackups, stanza=stanza, repo=COPY_REPO, **AS_POSTGRES) if copy_host else 0
        if local is None or copy is None:
            server.shell(name=named("bak-01") + ": stanza created in every repository", **AS_POSTGRES,
                         commands=[f"pgbackrest --stanza={stanza} stanza-create",
                                   f"pgbackrest --stanza={stanza} check"])
        if not local:
            # The timers' own script, so the first backup leaves its stamp for monitoring too
            # (a repository with no backup yet gets a full one whatever the type asked).
            server.shell(name=named("bak-01") + ": first full backup", **AS_POSTGRES,
                         commands=[f"{BACKUP_COMMAND} {LOCAL_REPO} {stanza}"])
        _timer(LOCAL_REPO, [stanza], data.backup_local_schedule)
    _barrier("/var/log/pgbackrest", "after the database hosts' stanzas")

    if is_copy:
        stanzas = [name for name, _ in databases]
        for stanza in stanzas:
            if not host.get_fact(PgBackRestBackups, stanza=stanza, repo=COPY_REPO, **AS_POSTGRES):
                server.shell(name=f"{named('bak-02')}: first full copy of {stanza}", **AS_POSTGRES,
                             commands=[f"{BACKUP_COMMAND} {COPY_REPO} {stanza}"],
                             _if=lambda stanza=stanza: _stanza_waits_for_copy(stanza))
        _timer(COPY_REPO, stanzas, data.backup_copy_schedule)


REPOS = {"local": LOCAL_REPO, "copy": COPY_REPO}
RECOVERY_WAIT_SECONDS = 600


@deploy("Restore", data_defaults=defaults.ALL)
def restore(source: str = "local", target_time: str | None = None):
    """Restore this database host from its own repository (``local``) or the backup host's copy
    (``copy``), to the latest WAL or to ``target_time`` (point in time, e.g. ``2026-11-27
    09:15:00+07``), and bring PostgreSQL back.

    The latest WAL is archived first while PostgreSQL still runs (``pgbackrest check``), so a
    restore to the end loses nothing that was committed. PostgreSQL is then stopped, its
    data directory brought to the backup by ``restore --delta`` (only changed files are
    rewritten), and started; the restore is done when recovery has ended.
    """
    data = host.data
    stanza = host.name
    if not DATABASE_HOSTS.matches(data.roles or []):
        refuse(name="[guard] a database host", reason=f"{host.name} runs no PostgreSQL (roles: "
                                                      f"{', '.join(data.roles or []) or 'none'})")
        return
    if source not in REPOS:
        refuse(name="[guard] a known repository", reason=f"--from {source!r}: use one of {', '.join(REPOS)}")
        return
    repo = REPOS[source]
    if not host.get_fact(PgBackRestBackups, stanza=stanza, repo=repo, **AS_POSTGRES):
        refuse(name="[guard] a backup to restore",
               reason=f"the {source} repository (repo{repo}) holds no backup of {stanza}, or cannot be reached")
        return
    target = ["--type=time", f"--target={shlex.quote(target_time)}", "--target-action=promote"] if target_time else []
    server.shell(name=named("bak-01") + ": latest WAL archived before the restore", **AS_POSTGRES, commands=[
        f"if pg_isready -q; then pgbackrest --stanza={stanza} check; "
        "else echo 'PostgreSQL is down: WAL not yet archived cannot be saved' >&2; fi"])
    # Commands, not systemd.service: whether PostgreSQL runs changes during this run.
    cluster = f"postgresql@{data.postgres_version}-main"
    pid_file = f"/var/lib/postgresql/{data.postgres_version}/main/postmaster.pid"
    server.shell(name=named("bak-01") + ": PostgreSQL stopped", commands=[
        f"systemctl stop {cluster}",
        f"for i in $(seq 60); do [ -e {pid_file} ] || exit 0; sleep 1; done; "
        "echo 'PostgreSQL did not stop within 60 s' >&2; exit 1"])
    server.shell(name=f"{named('bak-01')}: restored from repo{repo}", **AS_POSTGRES, commands=[
        " ".join(["pgbackrest", f"--stanza={stanza}", f"--repo={repo}", "--delta", *target, "restore"])])
    server.shell(name=named("bak-01") + ": PostgreSQL started", commands=[f"systemctl start {cluster}"])
    server.shell(name=named("bak-01") + ": recovery finished", **AS_POSTGRES, commands=[
        f"for i in $(seq {RECOVERY_WAIT_SECONDS}); do "
        "[ \"$(psql -XtAc 'select pg_is_in_recovery()' 2>/dev/null)\" = f ] && exit 0; sleep 1; done; "
        f"echo 'PostgreSQL still recovering after {RECOVERY_WAIT_SECONDS} s: see its log' >&2; exit 1"])
