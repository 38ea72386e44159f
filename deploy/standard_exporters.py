"""Debian's own exporters, installed where a host runs what they watch: nginx's connection
counters beside nginx, PostgreSQL's statistics beside PostgreSQL. Which hosts run one, and on
which port, is the role table's (inventory/roles.py: a role's ``exporters``); this says how
each is packaged, for the monitoring deploy and the benchmarks.
"""

from __future__ import annotations

from dataclasses import dataclass

from inventory import roles


@dataclass(frozen=True)
class DebianExporter:
    """A Debian exporter: what it is in the role table (its job and port key) and its package."""

    exporter: roles.Exporter
    package: str

    @property
    def service(self) -> str:
        """The package's systemd unit."""
        return self.package

    @property
    def etc(self) -> str:
        """Where its TLS files and web configuration live."""
        return f"/etc/prometheus/{self.exporter.job}-exporter"


NGINX = DebianExporter(roles.NGINX, "prometheus-nginx-exporter")
POSTGRES = DebianExporter(roles.POSTGRES, "prometheus-postgres-exporter")
STANDARD_EXPORTERS = (NGINX, POSTGRES)
