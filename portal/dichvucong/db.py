"""PostgreSQL access: one async connection pool per worker, and the schema."""

from __future__ import annotations

from importlib import resources

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from dichvucong.config import Config


def make_pool(config: Config) -> AsyncConnectionPool:
    """An (unopened) pool of dict-row connections for ``config.database_url``."""
    return AsyncConnectionPool(
        config.database_url,
        min_size=1,
        max_size=config.db_pool_size,
        kwargs={"row_factory": dict_row, "autocommit": False},
        open=False,
        # A request waits at most this long for a connection, then fails (503 at /readyz).
        timeout=10,
        # A dead connection (database restarted) is replaced, not handed out.
        check=AsyncConnectionPool.check_connection,
    )


def schema_sql() -> str:
    """The schema, as shipped in the package."""
    return resources.files("dichvucong").joinpath("schema.sql").read_text()


def migrate(database_url: str) -> None:
    """Create every table and index that is missing, and seed the procedure catalogue."""
    from dichvucong.catalogue_seed import seed_rows

    with psycopg.connect(database_url) as conn:
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('dichvucong-migrate'))")
        conn.execute(schema_sql())
        with conn.cursor() as cur:
            cur.executemany(
                """INSERT INTO procedures (code, name, field, level, fee_vnd, processing_days, tier, search_text)
                   VALUES (%(code)s, %(name)s, %(field)s, %(level)s, %(fee_vnd)s, %(processing_days)s,
                           %(tier)s, %(search_text)s)
                   ON CONFLICT (code) DO NOTHING""",
                seed_rows(),
            )
