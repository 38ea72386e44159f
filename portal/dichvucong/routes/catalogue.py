"""Procedure catalogue: search and view procedures (public)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request

from dichvucong.catalogue_seed import search_text
from dichvucong.dossiers import procedure
from dichvucong.web import templates, transaction

router = APIRouter()


async def search(conn, q: str, field: str | None, level: int | None, limit: int, offset: int) -> list[dict]:
    """Procedures whose name holds every word of ``q`` (diacritics optional)."""
    clauses, params = [], []
    for word in search_text(q).split():
        clauses.append("search_text LIKE %s")
        params.append("%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
    if field:
        clauses.append("field = %s")
        params.append(field)
    if level:
        clauses.append("level = %s")
        params.append(level)
    where = " AND ".join(clauses) or "TRUE"
    cur = await conn.execute(
        f"SELECT code, name, field, level, fee_vnd, processing_days, tier FROM procedures WHERE {where} "
        "ORDER BY name, code LIMIT %s OFFSET %s", (*params, limit, offset))
    return await cur.fetchall()


@router.get("/api/procedures")
async def list_procedures(request: Request, q: str = Query("", max_length=200), field: str | None = None,
                          level: int | None = Query(None, ge=3, le=4), limit: int = Query(20, ge=1, le=100),
                          offset: int = Query(0, ge=0)):
    """Search the catalogue by words of the name, field and level."""
    async with transaction(request) as conn:
        return {"procedures": await search(conn, q, field, level, limit, offset)}


@router.get("/api/procedures/{code}")
async def get_procedure(request: Request, code: str):
    """One procedure."""
    async with transaction(request) as conn:
        row = await procedure(conn, code)
    row.pop("search_text", None)
    row.pop("id", None)
    return row


@router.get("/")
async def catalogue_page(request: Request, q: str = Query("", max_length=200)):
    """The citizen's first page: search the catalogue."""
    async with transaction(request) as conn:
        rows = await search(conn, q, None, None, 50, 0)
    return templates.TemplateResponse(request, "catalogue.html", {"q": q, "procedures": rows})
