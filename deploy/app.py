"""The portal release on portal and one-stop hosts: installed offline from its wheelhouse into
a directory of its own, run by sandboxed systemd units, switched to atomically, health-checked,
and switched back by itself if the new release is unhealthy.

A release on a host is the code and its configuration together
(``/opt/dichvucong/releases/<version>-<code digest>-<config digest>``), so going back
restores both.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from io import StringIO
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from pyinfra import host, inventory
from pyinfra.api import deploy
from pyinfra.facts.files import File, FindFiles, Link
from pyinfra.facts.systemd import SystemdStatus
from pyinfra.operations import apt, files, server, systemd
from pyinfra.operations.util import any_changed

from deploy import defaults
from deploy.controls import named
from deploy.database import db_password
from deploy.peers import address_of, addresses_of, this_host
from deploy.release import portal_release
from deploy.secrets import secret, secrets_dir
from deploy.templates import render
from deploy.tls import ca_dir, ensure_ca, issue
from inventory.roles import ONESTOP, ONESTOP_HOSTS, OWN, PROVINCE_DATABASES, PROVINCE_PORTALS, STORES

BASE = "/opt/dichvucong"
SECRETS = "/etc/dichvucong/secrets"
SWITCH = Path(__file__).with_name("files") / "dichvucong-switch"


NATIONAL_SERVICES = ("national_sso_url", "national_payment_url", "national_sync_url")


def missing_national_services(data) -> list[str]:
    """The national services' data keys a portal host lacks (the guards refuse it for them)."""
    return [key for key in NATIONAL_SERVICES if not getattr(data, key)]


def merchant_key(unit_code: str, keys) -> str:
    """The payment platform's key for ``unit_code``'s merchant: one per unit, so no host holds
    another unit's key (a commune's could forge a "paid" callback at the province)."""
    return secret(f"payment-secret-{unit_code.lower()}", keys)


def sync_senders() -> dict[str, str]:
    """The one-stop hosts the province takes sync from: host name (its client certificate's
    common name) to the unit whose dossiers it may send."""
    return {member.name: member.data.unit_code for group in ONESTOP_HOSTS.groups
            for member in inventory.get_group(group, [])}


def environment(data, release: str) -> tuple[str, dict[str, str]]:
    """The release's environment file and the secret files it names (each host only its own:
    the province's portals the national token and the senders' list; a one-stop host its own
    client certificate for sync)."""
    roles = this_host()
    onestop = roles.portal == ONESTOP  # syncs up to the province's portal, not to the national one
    keys = secrets_dir(data.secrets_dir)
    database = "127.0.0.1" if roles.database == OWN else (addresses_of(PROVINCE_DATABASES) or ["127.0.0.1"])[0]
    secret_files = {
        "sso_client_secret": secret("sso-client-secret", keys),
        "payment_secret": merchant_key(data.unit_code, keys),
        "pgpass": f"*:{data.postgres_port}:{data.portal_database}:{data.portal_db_user}:{db_password(data)}",
    }
    if onestop:
        portals = addresses_of(PROVINCE_PORTALS)
        sync_url = f"https://{portals[0]}:{data.sync_port}/api/sync" if portals else ""
        chain, key, _ = issue(data, host.name, address_of())
        secret_files.update({"sync_client.pem": chain, "sync_client.key": key})
    else:
        sync_url = data.national_sync_url
        secret_files.update({"sync_token": secret("national-token", keys),
                             "sync_senders.json": json.dumps(sync_senders(), indent=1, sort_keys=True) + "\n"})
    tls = "" if database == "127.0.0.1" else "&sslmode=verify-full&sslrootcert=/etc/dichvucong/ca.pem"
    url = (f"postgresql://{data.portal_db_user}@{database}:{data.postgres_port}/{data.portal_database}"
           f"?connect_timeout=5{tls}")
    env = render("dichvucong.env.j2", data, release=release, database_url=url, unit_code=data.unit_code,
                 mode=roles.portal, public_host=address_of(), upload_dir=STORES["uploads"].path,
                 sync_url=sync_url, secrets=sorted(secret_files), secrets_dir=SECRETS)
    if onestop:
        env += "SSL_CERT_FILE=/etc/dichvucong/ca.pem\n"
    return env, secret_files


def prepare(data) -> tuple[str, str, list]:
    """What the portal and the lab's stand-ins share on a host: packages, the service account,
    its directories, the CA and the release's wheelhouse. Returns (code release, version, changes)."""
    code_release, source = portal_release()
    version = code_release.split("-", 1)[0]
    apt.packages(name=named("app-01") + ": venv and curl", packages=["python3-venv", "curl"], no_recommends=True)
    server.user(name=named("app-02") + ": service account", user="dichvucong", system=True,
                home="/var/lib/dichvucong", shell="/usr/sbin/nologin", create_home=False)
    for path, owner, mode in ((BASE, "root", "755"), (f"{BASE}/releases", "root", "755"),
                              (f"{BASE}/wheelhouse", "root", "755"), ("/var/lib/dichvucong", "dichvucong", "750"),
                              (STORES["uploads"].path, "dichvucong", "750"),
                              ("/etc/dichvucong", "root", "750"), (SECRETS, "root", "750")):
        files.directory(name=f"{named('app-02')}: {path}", path=path, user=owner,
                        group="dichvucong" if owner == "root" and path.startswith("/etc") else owner, mode=mode)
    ca = ensure_ca(ca_dir(data))[0]
    changed = [files.put(name=named("app-02") + ": CA the database and province present", src=StringIO(
        ca.public_bytes(serialization.Encoding.PEM).decode()), dest="/etc/dichvucong/ca.pem", mode="644")]
    files.sync(name=named("app-01") + ": wheelhouse", src=str(source / "wheelhouse"),
               dest=f"{BASE}/wheelhouse/{code_release}", delete=True)
    return code_release, version, changed


def install(target: str, wheelhouse: str, requirement: str, control: str = "app-01") -> None:
    """Install ``requirement`` offline from ``wheelhouse`` into ``target`` unless it is there already."""
    # A virtual environment cannot move (its scripts name their own path), so it is built in
    # place and marked complete last; an unmarked one is a failed install and is rebuilt.
    if not host.get_fact(File, path=f"{target}/.installed"):
        server.shell(name=named(control) + ": install the release offline", commands=[
            f"rm -rf {target} && python3 -m venv {target}",
            f"{target}/bin/pip install --quiet --no-index --find-links {wheelhouse} {requirement}",
            f"touch {target}/.installed"])


def put_secrets(secret_files: dict[str, str]) -> list:
    """Secret files readable by the service account only (libpq ignores a pgpass others can
    read); any other file in the secrets directory (a stand-in's, a credential the host no
    longer has) is removed."""
    changed = [files.put(name=f"{named('app-02')}: secret {name}", dest=f"{SECRETS}/{name}", src=StringIO(value),
                         user="dichvucong", group="dichvucong", mode="600") for name, value in secret_files.items()]
    for path in host.get_fact(FindFiles, path=SECRETS, maxdepth=1) or []:
        if posixpath.basename(path) not in secret_files:
            changed.append(files.file(name=f"{named('app-02')}: no stale secret {posixpath.basename(path)}",
                                      path=path, present=False))
    return changed


@deploy("App", data_defaults=defaults.ALL)
def app():
    """Install (app-01), sandbox (app-02) and switch to (app-03) the portal release."""
    data = host.data
    code_release, version, changed = prepare(data)
    env, secret_files = environment(data, code_release)
    release = f"{code_release}-{hashlib.sha256(env.encode()).hexdigest()[:8]}"
    target = f"{BASE}/releases/{release}"
    changed += put_secrets(secret_files)
    install(target, f"{BASE}/wheelhouse/{code_release}", f"dichvucong=={version}")
    files.put(name=named("app-01") + ": release environment", dest=f"{target}/env", src=StringIO(env), mode="644")

    for part in ("web", "outbox"):
        changed.append(files.put(name=f"{named('app-02')}: dichvucong-{part}.service",
                                 dest=f"/etc/systemd/system/dichvucong-{part}.service",
                                 src=StringIO(render("dichvucong.service.j2", data, part=part))))
    systemd.daemon_reload(name=named("app-02") + ": units reloaded", _if=any_changed(*changed))
    files.put(name=named("app-03") + ": switch script", src=str(SWITCH), dest="/usr/local/sbin/dichvucong-switch",
              mode="755")
    current = host.get_fact(Link, path=f"{BASE}/current")
    running = (host.get_fact(SystemdStatus) or {}).get("dichvucong-web.service", False)
    on_release = bool(current) and current.get("link_target") == target and running
    switch_command = (f"UPSTREAM={data.web_upstream} RELEASES_KEPT={data.releases_kept} "
                      f"/usr/local/sbin/dichvucong-switch {release}")
    if not on_release:
        server.shell(name=named("app-03") + ": switch to the new release", commands=[switch_command])
    else:
        server.shell(name=named("app-03") + ": restart for new secrets or units", commands=[switch_command],
                     _if=any_changed(*changed))
    for part in ("web", "outbox"):
        systemd.service(name=f"{named('app-03')}: dichvucong-{part} enabled", service=f"dichvucong-{part}",
                        enabled=True, running=True)
