"""The provincial portal's side of the sync chain: messages from one-stop hosts.

A commune (or district) host sends each of its dossiers and status changes here,
through its own outbox. The province applies each message once (by message_id),
then forwards it to the national portal through its own outbox, so the chain is
commune -> province -> national with nothing lost at either hop.

Each sending host has a credential of its own: nginx checks its client certificate
(from the deploy's CA) and names it in the X-Sync-Sender header, and the senders
file (DVC_SYNC_SENDERS_FILE) says the one unit whose dossiers that host may send.
Without a senders file, the shared bearer token (DVC_SYNC_INBOUND_TOKEN) is the
only check; with both, both must pass.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from fastapi import APIRouter, Request

from dichvucong import dossiers, outbox, refusals
from dichvucong.errors import BadRequest, Forbidden, NotFound, Unauthorized
from dichvucong.web import config, json_object, transaction

router = APIRouter()
# nginx sets it (always overwriting the client's) to the common name of the certificate it
# verified; the portal listens on loopback only, so nothing else can set it.
SENDER_HEADER = "X-Sync-Sender"
# Longest sender-supplied text kept in a security event.
DETAIL_CHARS = 100


async def _check_token(request: Request) -> None:
    expected = config(request).sync_inbound_token
    if not expected:
        raise Forbidden("this portal does not accept sync from one-stop hosts (no DVC_SYNC_INBOUND_TOKEN)")
    given = request.headers.get("authorization", "").removeprefix("Bearer ")
    if not secrets.compare_digest(given, expected):
        await refusals.record(request, "sync_token_invalid")
        raise Unauthorized("bad sync token")


async def _sender_unit(request: Request) -> str | None:
    """Authenticate the sending host; the unit it may sync for (None: any, no senders file)."""
    cfg = config(request)
    if cfg.sync_inbound_token or cfg.sync_senders is None:
        await _check_token(request)
    if cfg.sync_senders is None:
        return None
    sender = request.headers.get(SENDER_HEADER, "")
    if sender not in cfg.sync_senders:
        await refusals.record(request, "sync_unknown_sender", sender=sender[:DETAIL_CHARS])
        raise Forbidden(f"{sender[:DETAIL_CHARS]!r} is not a one-stop host this portal takes sync from")
    return cfg.sync_senders[sender]


async def _check_unit(request: Request, sender_unit: str, message_id: str, code: str, **units: str) -> None:
    """Refuse (403) a message about a unit other than the sender's, or under another unit's
    message ids (which would make the inbox drop that unit's own messages as repeats)."""
    if all(unit == sender_unit for unit in units.values()) and message_id.startswith(f"{sender_unit}/"):
        return
    sender = request.headers[SENDER_HEADER]
    await refusals.record(request, "sync_foreign_unit", sender=sender, sender_unit=sender_unit,
                          message_id=message_id[:DETAIL_CHARS], dossier=code[:DETAIL_CHARS],
                          **{name: unit[:DETAIL_CHARS] for name, unit in units.items()})
    raise Forbidden(f"{sender} syncs dossiers of {sender_unit} only")


async def _dossier_unit(request: Request, code: str) -> str | None:
    """The unit of a dossier the province holds (None: it holds none of that code)."""
    async with transaction(request) as conn:
        cur = await conn.execute("SELECT unit_code FROM dossiers WHERE code = %s", (code,))
        row = await cur.fetchone()
    return row["unit_code"] if row else None


async def _first_time(conn, message_id: str) -> bool:
    cur = await conn.execute(
        "INSERT INTO sync_inbox (message_id) VALUES (%s) ON CONFLICT DO NOTHING RETURNING message_id", (message_id,))
    return await cur.fetchone() is not None


@router.post("/api/sync/DongBoHoSoMC")
async def receive_dossier(request: Request):
    """A dossier created on a one-stop host (of the sender's unit)."""
    sender_unit = await _sender_unit(request)
    body = await json_object(request)
    try:
        message_id, code = str(body["message_id"]), str(body["code"])
        submitted_at = datetime.fromisoformat(body["submitted_at"])
        due_at = datetime.fromisoformat(body["due_at"])
        row = (code, body["unit_code"], body["procedure_code"], body["applicant"]["sub"], body["applicant"]["name"],
               int(body["channel"]), int(body["status"]), int(body["level"]), int(body["fee_vnd"]),
               submitted_at, due_at, body["origin_unit"])
    except (KeyError, TypeError, ValueError) as error:
        raise BadRequest(f"malformed DongBoHoSoMC message: {error}") from error
    if not (well_formed := dossiers.DOSSIER_CODE.match(code)):
        raise BadRequest(f"malformed dossier code {code!r}")
    if sender_unit is not None:  # the code names its unit too: no squatting another unit's codes
        await _check_unit(request, sender_unit, message_id, code, unit_code=str(body["unit_code"]),
                          origin_unit=str(body["origin_unit"]), code_unit=well_formed.group(1))
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
    """A status change made on a one-stop host (already checked there) to a dossier of the sender's unit."""
    sender_unit = await _sender_unit(request)
    body = await json_object(request)
    try:
        message_id, code, status = str(body["message_id"]), str(body["code"]), int(body["status"])
        actor, note = str(body.get("actor", "")), str(body.get("note", ""))
    except (KeyError, TypeError, ValueError) as error:
        raise BadRequest(f"malformed CapNhatTienDoHoSoMC message: {error}") from error
    if not 1 <= status <= 10:
        raise BadRequest(f"status {status} is not a national status code")
    if sender_unit is not None:
        # A dossier's unit never changes, so it is checked before the move's own transaction
        # (which refuses a dossier the province does not hold).
        unit = await _dossier_unit(request, code) or sender_unit
        await _check_unit(request, sender_unit, message_id, code, unit_code=unit)
    async with transaction(request) as conn:
        if await _first_time(conn, message_id):
            try:
                dossier = await dossiers.find(conn, code, lock=True)
            except NotFound:
                # Ordering is kept by the sender, so this means the create was lost upstream.
                raise BadRequest(f"progress for unknown dossier {code}; send DongBoHoSoMC first") from None
            await dossiers.record_status(conn, dossier, status, actor, note)
    return {"accepted": message_id}

