"""Fees through the payment platform: init, signed confirm callback, reconciliation."""

from __future__ import annotations

import secrets

import httpx
from fastapi import APIRouter, Depends, Request

from dichvucong import auth, dossiers, logs, refusals
from dichvucong.checksum import CONFIRM_FIELDS, INIT_FIELDS, checksum, verify
from dichvucong.errors import Conflict, Forbidden, NotFound, Upstream
from dichvucong.status import Status
from dichvucong.web import config, json_object, transaction

router = APIRouter()
GATEWAY_ACTOR = "payment-gateway"


@router.post("/api/dossiers/{code}/payments", status_code=201)
async def start_payment(request: Request, code: str, user: auth.User = Depends(auth.require_user)):
    """Ask the gateway for a payment URL for the fee the officer requested (status 6)."""
    cfg = config(request)
    async with transaction(request) as conn:
        dossier = await dossiers.find(conn, code, lock=True)
        if dossier["applicant_sub"] != user.sub:
            raise Forbidden("only the applicant pays a dossier's fee")
        if dossier["status"] != Status.FEE_REQUESTED:
            raise Conflict(f"dossier {code} has no fee requested (status {dossier['status']})")
        order_id = f"{dossier['id']}-{secrets.token_hex(6)}"
        await conn.execute("INSERT INTO payments (order_id, dossier_id, amount_vnd, status) VALUES (%s, %s, %s, 'pending')",
                           (order_id, dossier["id"], dossier["fee_vnd"]))
    message = {"merchant": cfg.payment_merchant, "order_id": order_id, "amount": dossier["fee_vnd"],
               "return_url": f"{cfg.public_url}/dossiers/{code}",
               "callback_url": f"{cfg.public_url}/api/payments/confirm"}
    message["checksum"] = checksum(message, INIT_FIELDS, cfg.payment_secret)
    try:
        response = await request.app.state.http.post(f"{cfg.payment_url}/payments", json=message)
        response.raise_for_status()
    except httpx.HTTPError as error:
        raise Upstream(f"the payment platform did not answer: {type(error).__name__}") from error
    return {"order_id": order_id, "amount_vnd": dossier["fee_vnd"], "payment_url": response.json()["payment_url"]}


async def apply_confirmation(conn, order_id: str, status: str, transaction_id: str) -> dict:
    """Record a confirmed payment once and move the dossier on to processing (6 -> 4)."""
    cur = await conn.execute("SELECT * FROM payments WHERE order_id = %s FOR UPDATE", (order_id,))
    payment = await cur.fetchone()
    if not payment:
        raise NotFound(f"no payment {order_id!r}")
    if payment["status"] != "pending":
        return payment  # a repeated callback changes nothing
    new_status = "paid" if status == "success" else "failed"
    cur = await conn.execute(
        "UPDATE payments SET status = %s, transaction_id = %s, confirmed_at = now() WHERE order_id = %s RETURNING *",
        (new_status, transaction_id, order_id))
    payment = await cur.fetchone()
    if new_status == "paid":
        cur = await conn.execute("SELECT code FROM dossiers WHERE id = %s", (payment["dossier_id"],))
        code = (await cur.fetchone())["code"]
        await dossiers.change_status(conn, code, Status.PROCESSING, GATEWAY_ACTOR, f"fee paid: {transaction_id}")
    return payment


@router.post("/api/payments/confirm")
async def confirm(request: Request):
    """The gateway's callback. A body that is not a JSON object is refused (400); a bad
    checksum is refused (403) and recorded as a security event."""
    cfg = config(request)
    message = await json_object(request)
    if not verify(message, CONFIRM_FIELDS, cfg.payment_secret):
        await refusals.record(request, "payment_signature_invalid", order_id=str(message.get("order_id", ""))[:100])
        raise Forbidden("bad checksum")
    async with transaction(request) as conn:
        payment = await apply_confirmation(conn, str(message["order_id"]), str(message["status"]),
                                           str(message["transaction_id"]))
    logs.event(logs.audit, "payment confirmed", order_id=payment["order_id"], status=payment["status"])
    return {"order_id": payment["order_id"], "status": payment["status"]}


@router.get("/api/payments/{order_id}")
async def reconcile(request: Request, order_id: str, user: auth.User = Depends(auth.require_user)):
    """Ask the gateway for the order's status and apply it if its callback never arrived."""
    cfg = config(request)
    try:
        response = await request.app.state.http.get(f"{cfg.payment_url}/payments/{order_id}")
    except httpx.HTTPError as error:
        raise Upstream(f"the payment platform did not answer: {type(error).__name__}") from error
    if response.status_code == 404:
        raise NotFound(f"the payment platform has no order {order_id!r}")
    remote = response.json()
    if not verify(remote, CONFIRM_FIELDS, cfg.payment_secret):
        raise Upstream("the payment platform's answer has a bad checksum")
    async with transaction(request) as conn:
        if remote["status"] in ("success", "failed"):
            payment = await apply_confirmation(conn, order_id, remote["status"], str(remote["transaction_id"]))
        else:
            cur = await conn.execute("SELECT * FROM payments WHERE order_id = %s", (order_id,))
            payment = await cur.fetchone()
            if not payment:
                raise NotFound(f"no payment {order_id!r}")
    return {"order_id": order_id, "status": payment["status"], "gateway_status": remote["status"]}
