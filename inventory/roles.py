"""What each role of the units table means, written once.

A host's roles (the units table's ``roles`` column) decide everything the toolkit does with it:
the packaged deploys it gets, the services it must run, the ports it listens on beyond loopback
and who may reach them, the stores it must not run out of space in, the exporters it is scraped
on, and which portal release it runs. Every host gets ``EVERY_HOST``'s part, then each of its
roles' parts. The deploy (``deploy/site.py``), the firewall, the security exporter's expected
ports, the services collector's configuration, the scrape targets, the audit and the load tests
read this table, and no other code tests a role's name: a new role is one entry in ``ROLES``
(with, if it brings new software, its packaged deploy, called in ``deploy/site.py``).

Ports are named by their data key in ``deploy/defaults.py`` (``postgres_port``), so a province
that moves a port moves it everywhere. Other hosts are named by kind (``MONITOR_HOSTS``), never
by role, so a second role of the same kind is admitted wherever the first is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

# An opening's sources besides kinds of hosts: any address, and networks the inventory's data
# names: its admin networks; and the load generators a lab sets (``loadtest_sources``), which
# play the one-stop hosts' sync in a load test. A production inventory sets no load generators.
EVERYONE = "everyone"
ADMIN_NETWORKS = "admin_networks"
LOAD_GENERATORS = "loadtest_sources"
# The portal release's two modes (its DVC_MODE): the province's portal, whose database is on the
# db host and which syncs to the national portal; and a one-stop unit's, on its own database,
# syncing up to the province's portal.
PROVINCE, ONESTOP = "province", "onestop"
# Where a host's PostgreSQL serves: the province's portal hosts over the network (with TLS), or
# its own portal on localhost only.
SHARED, OWN = "shared", "own"


@dataclass(frozen=True)
class Exporter:
    """An exporter a host is scraped on: its Prometheus job and the data key of its port."""

    job: str
    port: str


NODE = Exporter("node", "node_exporter_port")            # Debian's node_exporter
PORTALOPS = Exporter("portalops", "exporter_port")       # ours (monitors/portalops_exporters)
NGINX = Exporter("nginx", "nginx_exporter_port")         # Debian's, beside nginx
POSTGRES = Exporter("postgres", "postgres_exporter_port")  # Debian's, beside PostgreSQL


@dataclass(frozen=True)
class Store:
    """A place a host must not run out of space in (the services collector's ``store`` label).

    + name: the label value
    + path: where the deploy puts it
    + setting: the deploy's data key that moves it (deploy/defaults.py), if one does
    """

    name: str
    path: str
    setting: str | None = None

    def path_in(self, data) -> str:
        """Where it is on a host with ``data`` (the deploy's host data)."""
        return getattr(data, self.setting) if self.setting else self.path


STORES = {store.name: store for store in (
    Store("uploads", "/var/lib/dichvucong/uploads"),  # citizens' attachments (the portal's DVC_UPLOAD_DIR)
    Store("database", "/var/lib/postgresql"),  # Debian's PostgreSQL clusters
    Store("backup_repository", "/var/lib/pgbackrest", setting="backup_repo_path"),  # pgBackRest's repository
)}


@dataclass(frozen=True)
class Kind:
    """A kind of host, by what its roles do: the hosts of every role for which ``test`` holds.

    + what: what to call them in a message ("the monitor hosts")
    + test: a question about a Role
    """

    what: str
    test: Callable[["Role"], bool]

    @property
    def groups(self) -> tuple[str, ...]:
        """The roles of this kind, i.e. the inventory groups whose hosts are of it."""
        return tuple(name for name, role in ROLES.items() if self.test(role))

    def matches(self, roles: Iterable[str]) -> bool:
        """True for a host with any role of this kind."""
        return any(self.test(role) for role in roles_named(roles))

    def __str__(self) -> str:
        return f"{self.what} (role {' or '.join(self.groups) or 'none'})"


WEB_HOSTS = Kind("the web hosts", lambda role: "web" in role.deploys)
PROVINCE_PORTALS = Kind("the province's portal hosts", lambda role: role.portal == PROVINCE)
ONESTOP_HOSTS = Kind("the one-stop hosts", lambda role: role.portal == ONESTOP)
DATABASE_HOSTS = Kind("the database hosts", lambda role: role.database is not None)
PROVINCE_DATABASES = Kind("the province's database hosts", lambda role: role.database == SHARED)
BACKUP_HOSTS = Kind("the backup hosts", lambda role: role.keeps_backup_copies)
MONITOR_HOSTS = Kind("the monitor hosts", lambda role: "monitoring_server" in role.deploys)


@dataclass(frozen=True)
class Opening:
    """Ports of a host that the firewall opens to some sources; the host listens on them beyond
    loopback whenever it has a source (a kind of host present in the inventory, the admin
    networks, or everyone).

    + name: the rule's name (its nftables allow list is ``allow_<name>``)
    + ports: data keys of the ports (deploy/defaults.py); a key may hold a list (``web_ports``)
    + sources: kinds of hosts, ``EVERYONE``, or data keys of networks (``ADMIN_NETWORKS``,
      ``LOAD_GENERATORS``); only a kind present or the admin networks or everyone open it
    + service: the service behind the ports, which the host must run while the opening has a source
    """

    name: str
    ports: tuple[str, ...]
    sources: tuple[Kind | str, ...]
    service: str | None = None

    @property
    def public(self) -> bool:
        """Open to any address."""
        return EVERYONE in self.sources


@dataclass(frozen=True)
class Role:
    """What a host of one role gets (see the module's docstring).

    + name: the role as the units table writes it (and the pyinfra group of its hosts)
    + what: one line on what such a host is for
    + deploys: the packaged deploys it gets (their order is deploy/site.py's)
    + services: the services it must run (names in the services collector's catalogue)
    + ports: data keys of the ports it listens on beyond loopback whoever its peers are
    + openings: ports the firewall opens to others (see Opening)
    + stores: names of its stores (STORES)
    + exporters: the exporters it is scraped on beside every host's
    + portal: the portal release's mode on it (PROVINCE or ONESTOP), if it runs one
    + database: whom its PostgreSQL serves (SHARED or OWN), if it runs one
    + keeps_backup_copies: it holds the copy of every database host's backups
    """

    name: str
    what: str
    deploys: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    ports: tuple[str, ...] = ()
    openings: tuple[Opening, ...] = ()
    stores: tuple[str, ...] = ()
    exporters: tuple[Exporter, ...] = ()
    portal: str | None = None
    database: str | None = None
    keeps_backup_copies: bool = False

    def __post_init__(self):
        # The modes say how the deploys it gets are set up; one without the other is a typo.
        if (self.portal is not None) != ("app" in self.deploys) or self.portal not in (None, PROVINCE, ONESTOP):
            raise ValueError(f"role {self.name}: a portal mode ({PROVINCE} or {ONESTOP}) goes with the app deploy")
        if (self.database is not None) != ("database" in self.deploys) or self.database not in (None, SHARED, OWN):
            raise ValueError(f"role {self.name}: a database mode ({SHARED} or {OWN}) goes with the database deploy")
        if self.keeps_backup_copies and "backups" not in self.deploys:
            raise ValueError(f"role {self.name}: keeping backup copies needs the backups deploy")
        unknown = [name for name in self.stores if name not in STORES]
        if unknown:
            raise ValueError(f"role {self.name}: unknown store {', '.join(unknown)}")


PUBLIC_WEB = Opening("public_web", ("web_ports",), (EVERYONE,))
# The province portal's sync listener: each one-stop host sends its unit's dossiers there,
# proving who it is with its own client certificate.
FROM_ONESTOP_HOSTS = Opening("onestop_sync", ("sync_port",), (ONESTOP_HOSTS, LOAD_GENERATORS))
# pgBackRest's TLS server on a database host: the backup hosts reach it to take the copies.
TO_BACKUP_HOSTS = Opening("backup_hosts", ("backup_port",), (BACKUP_HOSTS,), service="pgbackrest")

EVERY_HOST = Role(
    "every host", "What every host gets whatever its roles: the hardening, the monitoring agent, and last "
                  "the integrity baselines of the finished host.",
    deploys=("base", "patching", "ssh", "firewall", "kernel", "accounts", "intrusion", "accounting",
             "monitoring_agent", "integrity"),
    services=("sshd", "fail2ban", "node-exporter"),
    # SSH is the firewall's own rule (fw-02: the admin networks only, rate-limited).
    ports=("ssh_port",),
    exporters=(NODE, PORTALOPS),
)

ROLES = {role.name: role for role in (
    Role("portal", "The province's portal: nginx with TLS and the WAF in front of the portal release, whose "
                   "database is on the db host, which takes the one-stop hosts' sync and syncs to the national "
                   "portal.",
         deploys=("web", "app"), services=("nginx", "dichvucong-web", "dichvucong-outbox"),
         openings=(PUBLIC_WEB, FROM_ONESTOP_HOSTS), stores=("uploads",), exporters=(NGINX,), portal=PROVINCE),
    Role("db", "The province's database: PostgreSQL for the portal hosts over TLS, backed up by pgBackRest.",
         deploys=("database", "backups"), services=("postgresql",), ports=("postgres_port",),
         openings=(Opening("app_hosts", ("postgres_port",), (PROVINCE_PORTALS,)), TO_BACKUP_HOSTS),
         stores=("database", "backup_repository"), exporters=(POSTGRES,), database=SHARED),
    Role("monitor", "Prometheus and Alertmanager, scraping and probing every host.",
         deploys=("monitoring_server",), services=("prometheus", "alertmanager"),
         ports=("prometheus_port", "alertmanager_port"),
         openings=(Opening("admins_to_monitor", ("prometheus_port", "alertmanager_port"), (ADMIN_NETWORKS,)),)),
    Role("backup", "Keeps a copy of every database host's backups, in pgBackRest's TLS server.",
         deploys=("backups",), services=("pgbackrest",), ports=("backup_port",),
         openings=(Opening("database_hosts", ("backup_port",), (DATABASE_HOSTS,)),),
         stores=("backup_repository",), keeps_backup_copies=True),
    Role("onestop", "A district's or commune's one-stop server: the portal release for its own unit on its own "
                    "PostgreSQL (localhost only), syncing up to the province's portal, backed up by pgBackRest.",
         deploys=("database", "backups", "web", "app"),
         services=("nginx", "dichvucong-web", "dichvucong-outbox", "postgresql"),
         openings=(PUBLIC_WEB, TO_BACKUP_HOSTS), stores=("uploads", "database", "backup_repository"),
         exporters=(NGINX, POSTGRES), portal=ONESTOP, database=OWN),
)}


def roles_named(names: Iterable[str]) -> list[Role]:
    """The roles called ``names`` (a host's ``roles``); an unknown name is refused, naming it."""
    names = list(names or ())
    unknown = [name for name in names if name not in ROLES]
    if unknown:
        raise ValueError(f"unknown role {', '.join(map(repr, unknown))}; known roles: {', '.join(ROLES)}")
    return [ROLES[name] for name in names]


def _unique(items: Iterable) -> list:
    return list(dict.fromkeys(items))


@dataclass(frozen=True)
class HostRoles:
    """What a host with some roles gets: ``EVERY_HOST``'s part, then each role's, each thing once.

    Example: ``HostRoles.of(["onestop"]).deploys``
    """

    roles: tuple[Role, ...]

    @classmethod
    def of(cls, names: Iterable[str]) -> "HostRoles":
        """The host whose roles are called ``names`` (see :func:`roles_named`)."""
        return cls((EVERY_HOST, *roles_named(names)))

    @property
    def names(self) -> list[str]:
        """Its roles' names, as the units table writes them."""
        return [role.name for role in self.roles[1:]]

    @property
    def deploys(self) -> list[str]:
        """The packaged deploys it gets."""
        return _unique(name for role in self.roles for name in role.deploys)

    @property
    def exporters(self) -> list[Exporter]:
        """The exporters it is scraped on."""
        return _unique(exporter for role in self.roles for exporter in role.exporters)

    @property
    def stores(self) -> list[Store]:
        """Its stores."""
        return [STORES[name] for name in _unique(name for role in self.roles for name in role.stores)]

    @property
    def openings(self) -> list[Opening]:
        """What its firewall opens to whom: the monitor hosts reach every exporter it runs, then
        each role's openings, each once."""
        scrapes = Opening("monitor_hosts", tuple(exporter.port for exporter in self.exporters), (MONITOR_HOSTS,))
        return _unique([scrapes, *(opening for role in self.roles for opening in role.openings)])

    def ports(self, present: Callable[[Kind], bool]) -> list[str]:
        """Data keys of the ports it listens on beyond loopback, given which kinds of host the
        inventory has (``present``)."""
        # Exporters listen whether or not a monitor host is there to scrape them.
        return _unique([*(key for role in self.roles for key in role.ports),
                        *(exporter.port for exporter in self.exporters),
                        *(key for opening in self.openings if self.is_open(opening, present) for key in opening.ports)])

    def services(self, present: Callable[[Kind], bool]) -> list[str]:
        """The services it must run, given which kinds of host the inventory has (``present``)."""
        return _unique([*(name for role in self.roles for name in role.services),
                        *(opening.service for opening in self.openings
                          if opening.service and self.is_open(opening, present))])

    @staticmethod
    def is_open(opening: Opening, present: Callable[[Kind], bool]) -> bool:
        """True if the opening has a source, given which kinds of host the inventory has."""
        return any(source in (EVERYONE, ADMIN_NETWORKS) or (isinstance(source, Kind) and present(source))
                   for source in opening.sources)

    @property
    def portal(self) -> str | None:
        """The portal release's mode on it (PROVINCE or ONESTOP), or None if it runs none."""
        return next((role.portal for role in self.roles if role.portal), None)

    @property
    def database(self) -> str | None:
        """Whom its PostgreSQL serves (SHARED or OWN), or None if it runs none."""
        return next((role.database for role in self.roles if role.database), None)
