"""Dossiers in the database: codes, submission, status changes, look-ups.

Every function runs inside the caller's transaction, so a request that fails
half-way leaves nothing behind: no dossier without its attachments, no status
change without its event and its outbox message.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Iterable

from psycopg.types.json import Jsonb

from dichvucong import outbox
from dichvucong.errors import Conflict, NotFound
from dichvucong.status import Channel, Status, allowed, due_date, initial_status, is_overdue

# The province keeps Vietnam's time (UTC+7, no daylight saving): a dossier's
# code carries the local date and the per-unit counter restarts at local midnight.
VIETNAM = timezone(timedelta(hours=7))
UNIT_CODE = re.compile(r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$")
DOSSIER_CODE = re.compile(r"^(\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2})-(\d{6})-(\d{4,})$")


async def next_code(conn, unit_code: str, now: datetime) -> str:
    """The next dossier code for ``unit_code`` today: ``{unit}-{yyMMdd}-{NNNN}``.

    The counter row's lock serialises every issuer sharing the database, and the
    UNIQUE constraint on dossiers.code backs it up.
    """
    day = now.astimezone(VIETNAM).date()
    cur = await conn.execute(
        "INSERT INTO dossier_counters (unit_code, day, last) VALUES (%s, %s, 1) "
        "ON CONFLICT (unit_code, day) DO UPDATE SET last = dossier_counters.last + 1 RETURNING last",
        (unit_code, day),
    )
    number = (await cur.fetchone())["last"]
    return f"{unit_code}-{day:%y%m%d}-{number:04d}"


async def procedure(conn, code: str) -> dict:
    """A procedure of the catalogue, or NotFound."""
    cur = await conn.execute("SELECT * FROM procedures WHERE code = %s", (code,))
    row = await cur.fetchone()
    if not row:
        raise NotFound(f"no procedure {code!r}")
    return row


async def submit(conn, *, unit_code: str, procedure_code: str, applicant_sub: str, applicant_name: str,
                 channel: Channel, form: dict, attachments: Iterable[dict], origin_unit: str) -> dict:
    """Create a dossier with its attachments, first event and sync message; return it."""
    proc = await procedure(conn, procedure_code)
    now = datetime.now(timezone.utc)
    code = await next_code(conn, unit_code, now)
    status = initial_status(channel)
    cur = await conn.execute(
        """INSERT INTO dossiers (code, unit_code, procedure_code, applicant_sub, applicant_name, channel,
                                 status, level, fee_vnd, form, submitted_at, due_at, updated_at, origin_unit)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING *""",
        (code, unit_code, proc["code"], applicant_sub, applicant_name, int(channel), int(status),
         proc["level"], proc["fee_vnd"], Jsonb(form), now, due_date(now, proc["processing_days"]), now,
         origin_unit),
    )
    dossier = await cur.fetchone()
    await conn.execute(
        "INSERT INTO dossier_events (dossier_id, from_status, to_status, actor, note) VALUES (%s, NULL, %s, %s, '')",
        (dossier["id"], int(status), applicant_sub),
    )
    await add_attachments(conn, dossier["id"], attachments)
    await outbox.enqueue(conn, "DongBoHoSoMC", code, outbox.dossier_payload(dossier))
    return dossier


async def add_attachments(conn, dossier_id: int, rows: Iterable[dict]) -> None:
    """Record stored files (see attachments.store) as the dossier's attachments."""
    for row in rows:
        await conn.execute(
            "INSERT INTO attachments (id, dossier_id, filename, content_type, size_bytes, sha256, storage_name) "
            "VALUES (%(id)s, %(dossier_id)s, %(filename)s, %(content_type)s, %(size_bytes)s, %(sha256)s, "
            "%(storage_name)s)",
            dict(row, dossier_id=dossier_id),
        )


async def find(conn, code: str, lock: bool = False) -> dict:
    """The dossier called ``code`` (locked for update if asked), or NotFound."""
    if not DOSSIER_CODE.match(code):
        raise NotFound(f"no dossier {code!r}")
    cur = await conn.execute("SELECT * FROM dossiers WHERE code = %s" + (" FOR UPDATE" if lock else ""), (code,))
    row = await cur.fetchone()
    if not row:
        raise NotFound(f"no dossier {code!r}")
    return row


async def change_status(conn, code: str, target: Status, actor: str, note: str = "") -> dict:
    """Move a dossier to ``target`` if the life cycle allows it (else Conflict, 409)."""
    dossier = await find(conn, code, lock=True)
    if not allowed(dossier["status"], target):
        raise Conflict(f"dossier {code} is {Status(dossier['status']).name.lower()} ({dossier['status']}); "
                       f"it cannot become {target.name.lower()} ({int(target)})")
    return await record_status(conn, dossier, target, actor, note)


async def record_status(conn, dossier: dict, target: int, actor: str, note: str) -> dict:
    """Write a status change, its event and its sync message (no life-cycle check)."""
    cur = await conn.execute(
        "UPDATE dossiers SET status = %s, updated_at = now() WHERE id = %s RETURNING *", (int(target), dossier["id"]))
    updated = await cur.fetchone()
    await conn.execute(
        "INSERT INTO dossier_events (dossier_id, from_status, to_status, actor, note) VALUES (%s, %s, %s, %s, %s)",
        (dossier["id"], dossier["status"], int(target), actor, note),
    )
    await outbox.enqueue(conn, "CapNhatTienDoHoSoMC", dossier["code"],
                         outbox.progress_payload(updated, int(target), actor, note))
    return updated


async def events(conn, dossier_id: int) -> list[dict]:
    """The dossier's history, oldest first."""
    cur = await conn.execute(
        "SELECT from_status, to_status, actor, note, at FROM dossier_events WHERE dossier_id = %s ORDER BY id",
        (dossier_id,))
    return await cur.fetchall()


async def attachments_of(conn, dossier_id: int) -> list[dict]:
    """The dossier's attachments' metadata."""
    cur = await conn.execute(
        "SELECT id, filename, content_type, size_bytes, sha256, created_at FROM attachments "
        "WHERE dossier_id = %s ORDER BY created_at, id", (dossier_id,))
    return await cur.fetchall()


def public_view(dossier: dict, now: datetime | None = None) -> dict:
    """What anyone holding the code may see: no applicant data, no form."""
    now = now or datetime.now(timezone.utc)
    return {
        "code": dossier["code"],
        "unit_code": dossier["unit_code"],
        "procedure_code": dossier["procedure_code"],
        "status": dossier["status"],
        "status_name": Status(dossier["status"]).name.lower(),
        "submitted_at": dossier["submitted_at"],
        "due_at": dossier["due_at"],
        "overdue": is_overdue(dossier["status"], dossier["due_at"], now),
    }
