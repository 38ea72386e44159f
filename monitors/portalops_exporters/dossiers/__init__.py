"""The dossiers-and-sync exporter (``portalops_dossiers_*``), read from the portal's database.

It asks the database, not the portal, so it works the same for the reference portal and
for a vendor's (whose schema answers through the ``queries`` option): dossiers by unit,
status, channel and level; overdue dossiers per unit; the sync backlog per unit and its
oldest message; this month's online-filing and online-payment shares against the
targets of Decision 766 (80 %), as gauges an alert can compare.

It connects at each scrape, as a role that may read only the columns it counts
(queries.grants), in a read-only snapshot, with a short connect timeout and statement
timeout: a database that is down or stuck turns ``portalops_dossiers_up`` to 0 within
seconds instead of hanging the scrape.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Iterable

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import dict_row
from prometheus_client.core import Metric

from portalops_exporters.dossiers.families import Targets, families
from portalops_exporters.dossiers.queries import QUERIES

NAME = "portalops_dossiers"
# The province keeps Vietnam's time (UTC+7, no daylight saving): the monthly score's month
# starts at local midnight, as the portal's dossier codes' days do.
VIETNAM = timezone(timedelta(hours=7))
# Finished dossiers cannot be overdue: rejected, withdrawn, stopped, result ready, result
# returned (portal/dichvucong/status.py FINISHED).
FINISHED = (3, 7, 8, 9, 10)
DESTINATIONS = ("national", "province")
# The exporter's database role: the name of the account it runs as (deploy/monitoring.py),
# so that peer authentication over the local socket needs no password and no ident map.
ROLE = "portalops-exporter"


def month_start(now: datetime) -> datetime:
    """Midnight of the first day of ``now``'s month, in Vietnam's time."""
    return now.astimezone(VIETNAM).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


class DossiersCollector:
    """``portalops_dossiers_*`` from the portal's database.

    + dsn: a libpq connection string or URL for a role granted queries.grants only; by default
      the local socket as ``portalops-exporter`` (peer authentication); a password, if one is
      needed, from a passfile (``passfile=``), never in the configuration
    + sync_destination: where this database's outbox delivers: ``national`` (the province's
      database) or ``province`` (a one-stop host's own)
    + connect_timeout_seconds: libpq's connect_timeout (whole seconds, 2 at least)
    + statement_timeout_seconds: the server cancels a query that runs longer
    + online_filing_target, online_payment_target: the province's targets, as fractions
    + unit_targets: a unit's own targets, ``{"000.17.22.H56": {"online_filing": 0.6}}``
    + finished_statuses: status codes that can no longer be overdue
    + queries: SQL replacing ``dossiers`` and/or ``sync`` for a vendor's schema, with the
      columns and parameters queries.py describes

    Example: ``DossiersCollector(dsn="host=/run/postgresql port=5432 dbname=dichvucong user=portalops-exporter")``
    """

    def __init__(self, dsn: str = f"host=/run/postgresql dbname=dichvucong user={ROLE}",
                 sync_destination: str = "national",
                 connect_timeout_seconds: int = 3, statement_timeout_seconds: float = 5.0,
                 online_filing_target: float = 0.8, online_payment_target: float = 0.8,
                 unit_targets: dict[str, dict[str, float]] | None = None,
                 finished_statuses: list[int] = FINISHED, queries: dict[str, str] | None = None):
        if sync_destination not in DESTINATIONS:
            raise ValueError(f"sync_destination {sync_destination!r}: use one of {', '.join(DESTINATIONS)}")
        unknown = set(queries or {}) - set(QUERIES)
        if unknown:
            raise ValueError(f"unknown queries {', '.join(sorted(unknown))}: replace {', '.join(QUERIES)}")
        self.conninfo = _with_timeouts(dsn, int(connect_timeout_seconds), float(statement_timeout_seconds))
        self.sync_destination = sync_destination
        self.targets = Targets(float(online_filing_target), float(online_payment_target), dict(unit_targets or {}))
        self.finished = [int(status) for status in finished_statuses]
        self.queries = {**QUERIES, **(queries or {})}

    def read(self, now: datetime) -> tuple[list[dict], list[dict]]:
        """The ``dossiers`` and ``sync`` rows, from one read-only snapshot of the database."""
        parameters = {"finished": self.finished, "month_start": month_start(now)}
        with psycopg.connect(self.conninfo, row_factory=dict_row) as conn:
            conn.read_only = True
            # Both queries see the same moment, so the figures add up across families.
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            with conn.transaction():
                dossiers = conn.execute(self.queries["dossiers"], parameters).fetchall()
                sync = conn.execute(self.queries["sync"], parameters).fetchall()
        return dossiers, sync

    def collect(self) -> Iterable[Metric]:
        """Yield the families, reading the database now (an error propagates: ``_up`` becomes 0)."""
        dossiers, sync = self.read(datetime.now(timezone.utc))
        yield from families(dossiers, sync, self.sync_destination, self.targets)


def _with_timeouts(dsn: str, connect_seconds: int, statement_seconds: float) -> str:
    """``dsn`` with the timeouts and the exporter's name added (options the DSN has are kept)."""
    if connect_seconds < 2:
        raise ValueError("connect_timeout_seconds: libpq waits at least 2 seconds")
    options = conninfo_to_dict(dsn).get("options", "")
    statement_ms = max(1, round(statement_seconds * 1000))
    return make_conninfo(dsn, connect_timeout=connect_seconds, application_name="portalops-exporter",
                         options=f"{options} -c statement_timeout={statement_ms}".strip())
