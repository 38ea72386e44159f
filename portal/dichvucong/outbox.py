"""The durable outbox: every status change reaches the national portal (or, on a
one-stop host, the provincial portal) exactly in the order it happened.

A message is written in the same transaction as the change it reports, so a
change is never committed without its message, nor a message without its change.
One sender per database (a PostgreSQL advisory lock elects it) delivers pending
messages oldest first; on a failure it stops, backs off and retries the same
message, so a later update never overtakes an earlier one. Receivers deduplicate
by ``message_id``, so a message delivered twice (sent, then the sender died before
marking it) is applied once.

A one-stop host proves who it is to the province with a client certificate of its
own (DVC_SYNC_CLIENT_CERT_FILE); the bearer token goes along only where one is
configured (the national portal's, or the loopback stack's shared one).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import httpx
import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from dichvucong import logs
from dichvucong.config import Config

KINDS = ("DongBoHoSoMC", "CapNhatTienDoHoSoMC")
SENDER_LOCK = "dichvucong-outbox-sender"
# Backoff after a failed delivery: doubles per attempt, capped at five minutes.
BACKOFF_FIRST_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 300.0
BATCH = 100


async def enqueue(conn, kind: str, dossier_code: str, payload: dict) -> None:
    """Add a message to the outbox inside the caller's transaction."""
    await conn.execute(
        "INSERT INTO outbox (kind, dossier_code, payload) VALUES (%s, %s, %s)",
        (kind, dossier_code, Jsonb(payload)),
    )


def backoff_seconds(attempts: int) -> float:
    """How long to wait before attempt number ``attempts + 1``."""
    return min(BACKOFF_MAX_SECONDS, BACKOFF_FIRST_SECONDS * 2 ** max(0, attempts - 1))


def message_id(unit_code: str, outbox_id: int) -> str:
    """A message's identity across retries: the sending unit and its outbox row."""
    return f"{unit_code}/{outbox_id}"


async def backlog(conn) -> dict:
    """Pending messages and the age of the oldest, in seconds."""
    cur = await conn.execute(
        "SELECT count(*) AS pending, coalesce(extract(epoch FROM now() - min(created_at)), 0) AS oldest "
        "FROM outbox WHERE sent_at IS NULL"
    )
    row = await cur.fetchone()
    return {"pending": row["pending"], "oldest_seconds": float(row["oldest"])}


def sync_client(config: Config) -> httpx.AsyncClient:
    """The sender's HTTP client: it presents the host's client certificate when one is
    configured, and trusts what httpx trusts (SSL_CERT_FILE, the deploy's CA, on a host)."""
    if not config.sync_client_cert_file:
        return httpx.AsyncClient(timeout=10)
    tls = httpx.create_ssl_context()
    tls.load_cert_chain(config.sync_client_cert_file, config.sync_client_key_file or None)
    return httpx.AsyncClient(timeout=10, verify=tls)


def sync_headers(config: Config) -> dict[str, str]:
    """The bearer token header, if this host has a sync token."""
    return {"Authorization": f"Bearer {config.sync_token}"} if config.sync_token else {}


async def deliver_once(conn, client: httpx.AsyncClient, config: Config) -> int:
    """Deliver due messages in order until one fails; return how many were delivered."""
    delivered = 0
    cur = await conn.execute(
        "SELECT id, kind, dossier_code, payload, attempts, next_attempt_at FROM outbox "
        "WHERE sent_at IS NULL ORDER BY id LIMIT %s", (BATCH,))
    rows = await cur.fetchall()
    await conn.commit()
    now = datetime.now(timezone.utc)
    for row in rows:
        if row["next_attempt_at"] > now:
            break  # the head of the queue is backing off: nothing behind it may overtake it
        body = dict(row["payload"], message_id=message_id(config.unit_code, row["id"]))
        try:
            response = await client.post(f"{config.sync_url}/{row['kind']}", json=body,
                                         headers=sync_headers(config))
            response.raise_for_status()
        except httpx.HTTPError as error:
            attempts = row["attempts"] + 1
            await conn.execute(
                "UPDATE outbox SET attempts = %s, last_error = %s, "
                "next_attempt_at = now() + make_interval(secs => %s) WHERE id = %s",
                (attempts, f"{type(error).__name__}: {error}"[:500], backoff_seconds(attempts), row["id"]),
            )
            await conn.commit()
            logs.event(logs.access, "sync delivery failed", outbox_id=row["id"], kind=row["kind"],
                       attempts=attempts, error=type(error).__name__)
            break
        await conn.execute("UPDATE outbox SET sent_at = now(), attempts = attempts + 1 WHERE id = %s",
                           (row["id"],))
        await conn.commit()
        delivered += 1
    return delivered


async def run_sender(config: Config, poll_seconds: float = 0.5, stop: asyncio.Event | None = None) -> None:
    """Deliver the outbox for ever (or until ``stop``): the ``dichvucong outbox`` process."""
    stop = stop or asyncio.Event()
    async with await psycopg.AsyncConnection.connect(config.database_url, row_factory=dict_row) as conn:
        while not stop.is_set():
            cur = await conn.execute("SELECT pg_try_advisory_lock(hashtext(%s)) AS leader", (SENDER_LOCK,))
            leader = (await cur.fetchone())["leader"]
            await conn.commit()
            if leader:
                break
            await _sleep(stop, 2.0)  # another sender holds the lock; stand by
        logs.event(logs.access, "outbox sender started", target=config.sync_url)
        async with sync_client(config) as client:
            while not stop.is_set():
                delivered = await deliver_once(conn, client, config)
                if not delivered:
                    await _sleep(stop, poll_seconds)


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except asyncio.TimeoutError:
        pass


def dossier_payload(dossier: dict) -> dict:
    """The DongBoHoSoMC body for a dossier row (what the national portal keeps)."""
    return {
        "code": dossier["code"],
        "unit_code": dossier["unit_code"],
        "procedure_code": dossier["procedure_code"],
        "level": dossier["level"],
        "channel": dossier["channel"],
        "status": dossier["status"],
        "fee_vnd": dossier["fee_vnd"],
        "submitted_at": dossier["submitted_at"].isoformat(),
        "due_at": dossier["due_at"].isoformat(),
        "applicant": {"sub": dossier["applicant_sub"], "name": dossier["applicant_name"]},
        "origin_unit": dossier["origin_unit"],
    }


def progress_payload(dossier: dict, status: int, actor: str, note: str) -> dict:
    """The CapNhatTienDoHoSoMC body for a status change."""
    return {
        "code": dossier["code"],
        "unit_code": dossier["unit_code"],
        "status": status,
        "at": datetime.now(timezone.utc).isoformat(),
        "actor": actor,
        "note": note,
    }

