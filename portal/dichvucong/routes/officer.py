"""The officer's queue and the moves an officer makes on a dossier."""

from __future__ import annotations

from fastapi import APIRouter, Body, Depends, Query, Request

from dichvucong import auth, dossiers, logs
from dichvucong.errors import Forbidden, NotFound
from dichvucong.status import OFFICER_ACTIONS, Status
from dichvucong.web import transaction

router = APIRouter()


@router.get("/api/officer/queue")
async def queue(request: Request, status: list[int] = Query([1, 2, 4, 5, 6, 9]),
                limit: int = Query(50, ge=1, le=200), user: auth.User = Depends(auth.require_officer)):
    """Dossiers of the officer's unit waiting in the given statuses, oldest first."""
    async with transaction(request) as conn:
        cur = await conn.execute(
            "SELECT * FROM dossiers WHERE unit_code = %s AND status = ANY(%s) ORDER BY submitted_at, id LIMIT %s",
            (user.unit_code, status, limit))
        rows = await cur.fetchall()
    return {"unit_code": user.unit_code,
            "dossiers": [dict(dossiers.public_view(row), applicant_name=row["applicant_name"]) for row in rows]}


@router.post("/api/officer/dossiers/{code}/{action}")
async def act(request: Request, code: str, action: str, note: str = Body("", embed=True, max_length=1000),
              user: auth.User = Depends(auth.require_officer)):
    """receive, reject, request-supplement, process, request-fee, stop, result-ready, return-result."""
    target = OFFICER_ACTIONS.get(action)
    if target is None:
        raise NotFound(f"no action {action!r}; actions: {', '.join(OFFICER_ACTIONS)}")
    async with transaction(request) as conn:
        dossier = await dossiers.find(conn, code, lock=True)
        if dossier["unit_code"] != user.unit_code:
            logs.event(logs.security, "officer acted outside their unit", dossier=code, actor=user.sub)
            raise Forbidden(f"dossier {code} belongs to unit {dossier['unit_code']}, not yours")
        updated = await dossiers.change_status(conn, code, target, user.sub, note)
    logs.event(logs.audit, "dossier status changed", dossier=code, actor=user.sub,
               from_status=dossier["status"], to_status=int(target))
    return dict(dossiers.public_view(updated), status_name=Status(updated["status"]).name.lower())
