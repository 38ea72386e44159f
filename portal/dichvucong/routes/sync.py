"""The provincial portal's side of the sync chain: messages from one-stop hosts.

A commune (or district) host sends each of its dossiers and status changes here,
through its own outbox. The province applies each message once (by message_id),
then forwards it to the national portal through its own outbox, so the chain is
commune -> province -> national with nothing lost at either hop.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from fastapi import APIRouter, Request

from dichvucong import dossiers, logs, outbox
from dichvucong.errors import BadRequest, Forbidden, NotFound, Unauthorized
from dichvucong.web import config, transaction

router = APIRouter()


def _check_token(request: Request) -> None:
    expected = config(request).sync_inbound_token
    if not expected:
        raise Forbidden("this portal does not accept sync from one-stop hosts (no DVC_SYNC_INBOUND_TOKEN)")
    given = request.headers.get("authorization", "").removeprefix("Bearer ")
    if not secrets.compare_digest(given, expected):
        logs.event(logs.security, "sync message with a bad token refused")
        raise Unauthorized("bad sync token")


async def _first_time(conn, message_id: str) -> bool:
    cur = await conn.execute(
        "INSERT INTO sync_inbox (message_id) VALUES (%s) ON CONFLICT DO NOTHING RETURNING message_id", (message_id,))
    return await cur.fetchone() is not None


@router.post("/api/sync/DongBoHoSoMC")
async def receive_dossier(request: Request):
    """A dossier created on a one-stop host."""
    _check_token(request)
    body = await request.json()
    try:
        message_id, code = str(body["message_id"]), str(body["code"])
        submitted_at = datetime.fromisoformat(body["submitted_at"])
        due_at = datetime.fromisoformat(body["due_at"])
        row = (code, body["unit_code"], body["procedure_code"], body["applicant"]["sub"], body["applicant"]["name"],
               int(body["channel"]), int(body["status"]), int(body["level"]), int(body["fee_vnd"]),
               submitted_at, due_at, body["origin_unit"])
    except (KeyError, TypeError, ValueError) as error:
        raise BadRequest(f"malformed DongBoHoSoMC message: {error}") from error
    if not dossiers.DOSSIER_CODE.match(code):
        raise BadRequest(f"malformed dossier code {code!r}")
    async with transaction(request) as conn:
        if await _first_time(conn, message_id):
            cur = await conn.execute(
                """INSERT INTO dossiers (code, unit_code, procedure_code, applicant_sub, applicant_name, channel,
                                         status, level, fee_vnd, submitted_at, due_at, updated_at, origin_unit)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, now(), %s)
                   ON CONFLICT (code) DO NOTHING RETURNING *""", row)
            dossier = await cur.fetchone()
            if dossier:
                await conn.execute("INSERT INTO dossier_events (dossier_id, from_status, to_status, actor, note) "
                                   "VALUES (%s, NULL, %s, %s, 'synced')", (dossier["id"], dossier["status"],
                                                                             dossier["origin_unit"]))
                await outbox.enqueue(conn, "DongBoHoSoMC", code, outbox.dossier_payload(dossier))
    return {"accepted": message_id}


@router.post("/api/sync/CapNhatTienDoHoSoMC")
async def receive_progress(request: Request):
    """A status change made on a one-stop host (already checked there)."""
    _check_token(request)
    body = await request.json()
    try:
        message_id, code, status = str(body["message_id"]), str(body["code"]), int(body["status"])
        actor, note = str(body.get("actor", "")), str(body.get("note", ""))
    except (KeyError, TypeError, ValueError) as error:
        raise BadRequest(f"malformed CapNhatTienDoHoSoMC message: {error}") from error
    if not 1 <= status <= 10:
        raise BadRequest(f"status {status} is not a national status code")
    async with transaction(request) as conn:
        if await _first_time(conn, message_id):
            try:
                dossier = await dossiers.find(conn, code, lock=True)
            except NotFound:
                # Ordering is kept by the sender, so this means the create was lost upstream.
                raise BadRequest(f"progress for unknown dossier {code}; send DongBoHoSoMC first") from None
            await dossiers.record_status(conn, dossier, status, actor, note)
    return {"accepted": message_id}

