"""What the dossiers exporter asks the portal's database, and the least it may read to ask it.

Two queries, one pass over each table they read. Their columns are the contract: a vendor
portal's database answers the same questions with its own SQL (the collector's ``queries``
option), with the same columns and the same parameters:

- ``%(finished)s``: the national status codes of finished dossiers (an integer array)
- ``%(month_start)s``: the start of the current month in Vietnam's time (timestamptz)

``dossiers``: one row per unit, status, channel and level, with ``dossiers`` (how many),
``overdue`` (appointment passed, not finished), and, of those submitted this month,
``month_filed``, ``month_fee_bearing`` (a fee is due) and ``month_paid_online`` (the fee
was paid through the payment platform).

``sync``: one row per unit with undelivered outbox messages: ``pending``, ``retrying``
(delivery failed at least once) and ``oldest_seconds`` (age of the oldest). An outbox row
names its dossier, whose code starts with the unit code; the destination (national portal
or province) is the host's, not the row's.
"""

from __future__ import annotations

DOSSIERS = """
SELECT d.unit_code, d.status, d.channel, d.level,
       count(*) AS dossiers,
       count(*) FILTER (WHERE d.status <> ALL (%(finished)s) AND d.due_at < now()) AS overdue,
       count(*) FILTER (WHERE d.submitted_at >= %(month_start)s) AS month_filed,
       count(*) FILTER (WHERE d.submitted_at >= %(month_start)s AND d.fee_vnd > 0) AS month_fee_bearing,
       count(*) FILTER (WHERE d.submitted_at >= %(month_start)s AND d.fee_vnd > 0
                          AND paid.dossier_id IS NOT NULL) AS month_paid_online
  FROM dossiers d
  -- A fee paid this month belongs to a dossier submitted no earlier, so older payments are skipped.
  LEFT JOIN (SELECT DISTINCT dossier_id FROM payments
              WHERE status = 'paid' AND created_at >= %(month_start)s) paid ON paid.dossier_id = d.id
 GROUP BY 1, 2, 3, 4
"""

SYNC = """
SELECT coalesce(d.unit_code, split_part(o.dossier_code, '-', 1)) AS unit_code,
       count(*) AS pending,
       count(*) FILTER (WHERE o.attempts > 0) AS retrying,
       extract(epoch FROM now() - min(o.created_at)) AS oldest_seconds
  FROM outbox o
  LEFT JOIN dossiers d ON d.code = o.dossier_code
 WHERE o.sent_at IS NULL
 GROUP BY 1
"""

QUERIES = {"dossiers": DOSSIERS, "sync": SYNC}

# Column by column, what the queries read: no applicant, form, attachment, payload or
# transaction column, so the exporter's role cannot leak citizens' data even if asked to.
READABLE_COLUMNS = {
    "dossiers": ("id", "code", "unit_code", "status", "channel", "level", "fee_vnd", "submitted_at", "due_at"),
    "outbox": ("dossier_code", "created_at", "sent_at", "attempts"),
    "payments": ("dossier_id", "status", "created_at"),
}


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def grants(role: str, database: str = "dichvucong", schema: str = "public") -> list[str]:
    """The statements (run as the database's owner) that let ``role`` read what the queries need, no more.

    The role itself is made by whoever owns roles (``CREATE ROLE ... LOGIN``, no password
    with peer authentication over the local socket).
    """
    role_name = _identifier(role)
    return [f"GRANT CONNECT ON DATABASE {_identifier(database)} TO {role_name}",
            f"GRANT USAGE ON SCHEMA {_identifier(schema)} TO {role_name}",
            *(f"GRANT SELECT ({', '.join(columns)}) ON {_identifier(schema)}.{_identifier(table)} TO {role_name}"
              for table, columns in READABLE_COLUMNS.items())]
