"""Dossier submission with attachments, status look-up, the applicant's own actions."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException

from dichvucong import attachments, auth, dossiers, logs
from dichvucong.errors import BadRequest, Forbidden, NotFound, PayloadTooLarge
from dichvucong.status import Channel, Status
from dichvucong.web import config, templates, transaction

router = APIRouter()
# The form itself (JSON) is small: names, addresses, a few numbers.
MAX_FORM_BYTES = 64 * 1024


async def read_multipart(request: Request) -> tuple[dict, list[UploadFile]]:
    """The submission's fields and files; 413 before reading a body that cannot fit."""
    cfg = config(request)
    limit = cfg.max_files * cfg.max_upload_bytes + MAX_FORM_BYTES
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit:
        raise PayloadTooLarge(f"the request is {length} bytes; at most {limit} are accepted")
    if not request.headers.get("content-type", "").startswith(("multipart/form-data",
                                                               "application/x-www-form-urlencoded")):
        raise BadRequest("send the dossier as multipart/form-data")
    try:
        form = await request.form(max_files=cfg.max_files, max_fields=50, max_part_size=MAX_FORM_BYTES)
    except MultiPartException as error:
        raise BadRequest(f"malformed upload: {error.message}") from error
    fields = {key: value for key, value in form.multi_items() if isinstance(value, str)}
    files = [value for key, value in form.multi_items() if key == "files" and not isinstance(value, str)]
    return fields, files


def parse_form_json(text: str) -> dict:
    """The dossier's form fields, sent as a JSON object."""
    try:
        value = json.loads(text or "{}")
    except json.JSONDecodeError as error:
        raise BadRequest(f"'form' is not JSON: {error.msg}") from error
    if not isinstance(value, dict):
        raise BadRequest("'form' must be a JSON object")
    return value


def submission_channel(user: auth.User, fields: dict) -> tuple[Channel, str, str]:
    """Channel and applicant: citizens file online as themselves; officers record desk or postal dossiers."""
    if not user.is_officer:
        return Channel.ONLINE, user.sub, user.name
    try:
        channel = Channel(int(fields.get("channel", Channel.IN_PERSON)))
    except ValueError:
        raise BadRequest("'channel' must be 1 (in person), 2 (online) or 3 (postal)") from None
    applicant = fields.get("applicant_id", "").strip()
    if channel == Channel.ONLINE or not applicant:
        raise BadRequest("an officer records in-person (1) or postal (3) dossiers with an 'applicant_id'")
    return channel, applicant, fields.get("applicant_name", "").strip()[:200]


def unit_for(request: Request, fields: dict) -> str:
    """The unit the dossier is filed with: any unit at the province, only its own on a one-stop host."""
    cfg = config(request)
    unit = fields.get("unit_code", "").strip() or cfg.unit_code
    if not dossiers.UNIT_CODE.match(unit):
        raise BadRequest(f"'unit_code' {unit!r} is not a unit code (000.00.14.H56)")
    if cfg.mode == "onestop" and unit != cfg.unit_code:
        raise BadRequest(f"this one-stop host files dossiers for {cfg.unit_code} only")
    return unit


@router.post("/api/dossiers", status_code=201)
async def submit(request: Request, user: auth.User = Depends(auth.require_user)):
    """File a dossier: multipart with 'procedure_code', 'form' (JSON) and 'files'."""
    cfg = config(request)
    fields, files = await read_multipart(request)
    if not fields.get("procedure_code"):
        raise BadRequest("'procedure_code' is required")
    form = parse_form_json(fields.get("form", ""))
    channel, applicant_sub, applicant_name = submission_channel(user, fields)
    unit = unit_for(request, fields)
    stored = await attachments.store(files, cfg)
    try:
        async with transaction(request) as conn:
            dossier = await dossiers.submit(
                conn, unit_code=unit, procedure_code=fields["procedure_code"], applicant_sub=applicant_sub,
                applicant_name=applicant_name or user.name, channel=channel, form=form,
                attachments=stored.rows, origin_unit=cfg.unit_code)
    except BaseException:
        stored.discard()
        raise
    logs.event(logs.audit, "dossier submitted", dossier=dossier["code"], actor=user.sub,
               channel=int(channel), attachments=len(stored.rows))
    return dict(dossiers.public_view(dossier), attachments=[
        {k: row[k] for k in ("id", "filename", "content_type", "size_bytes", "sha256")} for row in stored.rows])


def may_see(user: auth.User | None, dossier: dict) -> bool:
    """The applicant and officers see a dossier's details; others its public status only."""
    return bool(user) and (user.is_officer or user.sub == dossier["applicant_sub"])


@router.get("/api/dossiers/{code}")
async def view(request: Request, code: str):
    """Status look-up by code; the applicant and officers also get the form, history and files."""
    async with transaction(request) as conn:
        dossier = await dossiers.find(conn, code)
        user = await auth.session_user(conn, config(request), request.cookies.get(auth.COOKIE))
        result = dossiers.public_view(dossier)
        if may_see(user, dossier):
            result.update(
                applicant_name=dossier["applicant_name"], channel=dossier["channel"], form=dossier["form"],
                fee_vnd=dossier["fee_vnd"], level=dossier["level"],
                events=await dossiers.events(conn, dossier["id"]),
                attachments=await dossiers.attachments_of(conn, dossier["id"]))
    return result


@router.get("/dossiers/{code}")
async def status_page(request: Request, code: str):
    """The public status page of a dossier."""
    async with transaction(request) as conn:
        dossier = await dossiers.find(conn, code)
    return templates.TemplateResponse(request, "dossier.html", {"d": dossiers.public_view(dossier)})


@router.get("/api/my/dossiers")
async def mine(request: Request, user: auth.User = Depends(auth.require_user)):
    """The logged-in citizen's dossiers, newest first."""
    async with transaction(request) as conn:
        cur = await conn.execute(
            "SELECT * FROM dossiers WHERE applicant_sub = %s ORDER BY submitted_at DESC LIMIT 100", (user.sub,))
        return {"dossiers": [dossiers.public_view(row) for row in await cur.fetchall()]}


@router.post("/api/dossiers/{code}/withdraw")
async def withdraw(request: Request, code: str, user: auth.User = Depends(auth.require_user)):
    """The applicant withdraws the dossier (status 7)."""
    async with transaction(request) as conn:
        dossier = await dossiers.find(conn, code, lock=True)
        if dossier["applicant_sub"] != user.sub:
            raise Forbidden("only the applicant may withdraw a dossier")
        updated = await dossiers.change_status(conn, code, Status.WITHDRAWN, user.sub, "withdrawn by the applicant")
    logs.event(logs.audit, "dossier withdrawn", dossier=code, actor=user.sub)
    return dossiers.public_view(updated)


@router.post("/api/dossiers/{code}/supplement")
async def supplement(request: Request, code: str, user: auth.User = Depends(auth.require_user)):
    """The applicant sends what the officer asked for; the dossier is received again (5 -> 2)."""
    cfg = config(request)
    fields, files = await read_multipart(request)
    note = fields.get("note", "")[:1000]
    stored = await attachments.store(files, cfg)
    try:
        async with transaction(request) as conn:
            dossier = await dossiers.find(conn, code, lock=True)
            if dossier["applicant_sub"] != user.sub:
                raise Forbidden("only the applicant may supplement a dossier")
            updated = await dossiers.change_status(conn, code, Status.RECEIVED, user.sub, note or "supplement")
            await dossiers.add_attachments(conn, dossier["id"], stored.rows)
    except BaseException:
        stored.discard()
        raise
    logs.event(logs.audit, "dossier supplemented", dossier=code, actor=user.sub, attachments=len(stored.rows))
    return dossiers.public_view(updated)


@router.get("/api/dossiers/{code}/attachments/{attachment_id}")
async def download(request: Request, code: str, attachment_id: str, user: auth.User = Depends(auth.require_user)):
    """An attachment's bytes, for the applicant and officers; anything that is not a known id is 404."""
    wanted = attachments.parse_id(attachment_id)
    async with transaction(request) as conn:
        dossier = await dossiers.find(conn, code)
        if not may_see(user, dossier):
            logs.event(logs.security, "attachment access refused", dossier=code, actor=user.sub)
            raise NotFound("no such attachment")
        cur = await conn.execute("SELECT * FROM attachments WHERE id = %s AND dossier_id = %s",
                                 (wanted, dossier["id"]))
        row = await cur.fetchone()
    if not row:
        raise NotFound("no such attachment")
    return FileResponse(attachments.path_of(config(request), row["storage_name"]), media_type=row["content_type"],
                        filename=row["filename"], headers={"X-Content-Type-Options": "nosniff"})
