"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import os
import tempfile

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from dichvucong import outbox
from dichvucong.status import FINISHED
from dichvucong.metrics import DatabaseCollector, exposition
from dichvucong.web import config, transaction

router = APIRouter()
# Probes answer quickly: a database that cannot give a connection this fast is "not ready".
PROBE_DB_SECONDS = 2


@router.get("/healthz")
async def liveness():
    """The process answers (it says nothing about the database)."""
    return {"status": "ok"}


def _disk_writable(directory) -> str | None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".ready-") as probe:
            probe.write(b"ok")
            probe.flush()
            os.fsync(probe.fileno())
        return None
    except OSError as error:
        return f"upload directory {directory} not writable: {error.strerror}"


@router.get("/readyz")
async def readiness(request: Request):
    """Ready to serve: the database answers and the upload directory takes writes; else 503 saying which."""
    problems = []
    try:
        async with transaction(request, timeout=PROBE_DB_SECONDS) as conn:
            await conn.execute("SELECT 1")
    except Exception as error:  # any failure to reach the database means not ready
        problems.append(f"database: {type(error).__name__}")
    if disk := _disk_writable(config(request).upload_dir):
        problems.append(disk)
    if problems:
        return JSONResponse({"status": "unready", "problems": problems}, status_code=503)
    return {"status": "ready"}


@router.get("/metrics")
async def metrics(request: Request):
    """Prometheus exposition: request metrics plus dossier and outbox figures from the database."""
    try:
        async with transaction(request, timeout=PROBE_DB_SECONDS) as conn:
            cur = await conn.execute(
                "SELECT unit_code, status, channel, count(*) AS n FROM dossiers GROUP BY 1, 2, 3 ORDER BY 1, 2, 3")
            by_state = await cur.fetchall()
            cur = await conn.execute(
                "SELECT unit_code, count(*) AS n FROM dossiers WHERE status <> ALL(%s) "
                "AND due_at < now() GROUP BY 1 ORDER BY 1", (sorted(int(s) for s in FINISHED),))
            overdue = await cur.fetchall()
            backlog = await outbox.backlog(conn)
        collector = DatabaseCollector(by_state, overdue, backlog, up=True)
    except Exception:  # the metrics still answer, saying the database did not
        collector = DatabaseCollector([], [], {}, up=False)
    body, content_type = exposition(collector)
    return Response(body, media_type=content_type)
