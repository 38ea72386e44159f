"""The national portal's sync services (DongBoHoSoMC, CapNhatTienDoHoSoMC), stood in.

Messages are kept in a SQLite file so they survive a restart, each applied once
by ``message_id``. ``POST /national/_fault`` makes the service fail or stall, so
that lag and backlog can be shown on purpose.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import anyio
from fastapi import APIRouter, Body, HTTPException, Request

KINDS = ("DongBoHoSoMC", "CapNhatTienDoHoSoMC")
FAULTS = ("none", "down", "slow")


class NationalPortal:
    """Received messages, by message_id, in a SQLite file."""

    def __init__(self, path: Path, token: str):
        self.token, self.fault = token, "none"
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.lock = threading.Lock()
        self.db.execute("CREATE TABLE IF NOT EXISTS messages (message_id TEXT PRIMARY KEY, kind TEXT, code TEXT, "
                        "status INTEGER, body TEXT, received_at TEXT DEFAULT CURRENT_TIMESTAMP)")

    def store(self, kind: str, body: dict) -> bool:
        """Keep a message; False if it was already there."""
        with self.lock:
            cur = self.db.execute("INSERT OR IGNORE INTO messages (message_id, kind, code, status, body) "
                                  "VALUES (?, ?, ?, ?, ?)", (str(body["message_id"]), kind, str(body["code"]),
                                                             int(body["status"]), json.dumps(body)))
            return cur.rowcount == 1

    def dossier(self, code: str) -> list[dict]:
        """Every message received for a dossier, in arrival order."""
        with self.lock:
            rows = self.db.execute("SELECT kind, status, message_id FROM messages WHERE code = ? ORDER BY rowid",
                                   (code,)).fetchall()
        return [{"kind": k, "status": s, "message_id": m} for k, s, m in rows]

    def counts(self) -> dict:
        """Messages received, by kind."""
        with self.lock:
            rows = self.db.execute("SELECT kind, count(*) FROM messages GROUP BY kind").fetchall()
        return dict(rows)


def router(national: NationalPortal) -> APIRouter:
    """The national portal's endpoints, mounted under /national."""
    api = APIRouter(prefix="/national")

    @api.post("/_fault")
    async def set_fault(mode: str = Body(..., embed=True)):
        if mode not in FAULTS:
            raise HTTPException(400, f"mode must be one of {', '.join(FAULTS)}")
        national.fault = mode
        return {"fault": mode}

    @api.post("/{kind}")
    async def receive(kind: str, request: Request):
        if kind not in KINDS:
            raise HTTPException(404, f"no service {kind!r}")
        if request.headers.get("authorization", "") != f"Bearer {national.token}":
            raise HTTPException(401, "bad token")
        if national.fault == "down":
            raise HTTPException(503, "national portal unavailable (fault injected)")
        if national.fault == "slow":
            await anyio.sleep(15)
        body = await request.json()
        try:
            fresh = await anyio.to_thread.run_sync(national.store, kind, body)
        except (KeyError, TypeError, ValueError) as error:
            raise HTTPException(400, f"malformed {kind}: {error}") from error
        return {"accepted": body["message_id"], "duplicate": not fresh}

    @api.get("/dossiers/{code}")
    async def dossier(code: str):
        return {"code": code, "messages": national.dossier(code)}

    @api.get("/stats")
    async def stats():
        return national.counts()

    return api
