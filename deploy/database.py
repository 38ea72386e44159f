"""PostgreSQL for the portal: listening only where the app hosts reach it, TLS, scram-sha-256,
pg_hba limited to the app hosts from the inventory, connections and slow statements logged.

The db host serves the portal hosts; a one-stop host runs its own PostgreSQL for its
own portal, on localhost only. Both configuration files are checked by PostgreSQL
itself (``pg_file_settings``, ``pg_hba_file_rules``) in place before a reload, and put
back if it finds an error.
"""

from __future__ import annotations

from io import StringIO

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.facts.postgres import PostgresRoles
from pyinfra.operations import apt, files, postgres, systemd
from pyinfra.operations.util import any_changed

from deploy import defaults
from deploy.controls import named
from deploy.operations import validated_file
from deploy.peers import address_of, addresses_of, this_host
from deploy.secrets import secret, secrets_dir
from deploy.templates import render
from deploy.tls import issue
from inventory.roles import PROVINCE_PORTALS, SHARED

AS_POSTGRES = "runuser -u postgres -- psql -XtAc"


def _no_errors_in(view: str) -> str:
    """A check that PostgreSQL finds no error in the files behind ``view``.

    "setting could not be applied" only means the setting waits for a restart.
    """
    return (f"cd / && {AS_POSTGRES} \"select count(*) from {view} where error is not null "
            f"and error <> 'setting could not be applied'\" | grep -qx 0")


def db_password(data) -> str:
    """The portal role's password, generated once on the controller."""
    return secret(f"postgres-{data.portal_db_user}", secrets_dir(data.secrets_dir))


@deploy("Database", data_defaults=defaults.ALL)
def database():
    """PostgreSQL (db-01..04), the portal's role and database."""
    data = host.data
    serves_others = this_host().database == SHARED
    app_hosts = addresses_of(PROVINCE_PORTALS) if serves_others else []
    address = address_of()
    conf_dir = f"/etc/postgresql/{data.postgres_version}/main"
    apt.packages(name=named("db-01") + ": PostgreSQL", packages=["postgresql"], no_recommends=True)
    # postgres has a login shell, so its home counts as one: only postgres reads it.
    files.directory(name=named("acc-08") + ": /var/lib/postgresql", path="/var/lib/postgresql", user="postgres",
                    group="postgres", mode=data.home_mode)

    files.directory(name=named("db-01") + ": certificate directory", path="/etc/postgresql/ssl",
                    user="postgres", group="postgres", mode="700")
    chain, key, _ = issue(data, host.name, address)
    tls = [files.put(name=named("db-01") + ": certificate", dest="/etc/postgresql/ssl/server.pem",
                     src=StringIO(chain), user="postgres", group="postgres", mode="644"),
           files.put(name=named("db-01") + ": key", dest="/etc/postgresql/ssl/server.key", src=StringIO(key),
                     user="postgres", group="postgres", mode="600")]

    settings = validated_file(
        name=named("db-04") + ": postgresql.conf", dest=f"{conf_dir}/conf.d/90-portalops.conf",
        content=render("postgresql.conf.j2", data, postgres_port=data.postgres_port, stanza=host.name,
                       listen_addresses="localhost" + (f",{address}" if serves_others else "")),
        check=_no_errors_in("pg_file_settings"), in_place=True, user="postgres", group="postgres")
    hba = validated_file(
        name=named("db-04") + ": pg_hba.conf", dest=f"{conf_dir}/pg_hba.conf",
        content=render("pg_hba.conf.j2", data, app_hosts=app_hosts),
        check=_no_errors_in("pg_hba_file_rules"), in_place=True, mode="640", user="postgres", group="postgres")
    # listen_addresses needs a restart; rules and certificates a reload.
    systemd.service(name=named("db-01") + ": restarted for new settings", service="postgresql", restarted=True,
                    _if=settings.did_change)
    systemd.service(name=named("db-02") + ": reloaded for new rules or certificate", service="postgresql",
                    reloaded=True, _if=any_changed(hba, *tls))
    systemd.service(name=named("db-01") + ": running", service="postgresql", running=True, enabled=True)

    # pyinfra re-sets a given password on every run; it is given only when the role is new.
    roles = host.get_fact(PostgresRoles, _sudo_user="postgres") or {}
    postgres.role(name=named("db-02") + ": portal role", role=data.portal_db_user, login=True,
                  password=None if data.portal_db_user in roles else db_password(data), _sudo_user="postgres")
    postgres.database(name=named("db-02") + ": portal database", database=data.portal_database,
                      owner=data.portal_db_user, encoding="UTF8", _sudo_user="postgres")
