"""Debian's own exporters where a host runs what they watch: nginx's connection counters on the
web hosts, PostgreSQL's statistics on the database hosts. One table says which exporter runs
where and on which port; the firewall, the expected ports, the scrape targets and the deploy
all read it.
"""

from __future__ import annotations

from dataclasses import dataclass

from deploy.database import DATABASE_ROLES
from deploy.web import WEB_ROLES


@dataclass(frozen=True)
class StandardExporter:
    """A Debian exporter: its Prometheus job, package, port (a data key) and the roles it serves."""

    job: str
    package: str
    port_key: str
    roles: tuple[str, ...]

    def runs_on(self, roles) -> bool:
        """True for a host with any of this exporter's roles."""
        return bool(set(self.roles) & set(roles or ()))

    @property
    def service(self) -> str:
        """The package's systemd unit."""
        return self.package

    @property
    def etc(self) -> str:
        """Where its TLS files and web configuration live."""
        return f"/etc/prometheus/{self.job}-exporter"


NGINX = StandardExporter("nginx", "prometheus-nginx-exporter", "nginx_exporter_port", WEB_ROLES)
POSTGRES = StandardExporter("postgres", "prometheus-postgres-exporter", "postgres_exporter_port", DATABASE_ROLES)
STANDARD_EXPORTERS = (NGINX, POSTGRES)


def ports_for(data, roles) -> list[int]:
    """The ports of the standard exporters a host of ``roles`` runs."""
    return [getattr(data, e.port_key) for e in STANDARD_EXPORTERS if e.runs_on(roles)]
