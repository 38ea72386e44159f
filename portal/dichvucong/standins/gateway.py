"""A payment gateway standing in for the national payment platform.

``POST /gateway/payments`` opens an order (its checksum checked) and returns a
payment URL; the citizen's "pay" (``POST /gateway/pay/{order}``) settles it and
calls the merchant's callback with a signed confirmation; ``GET
/gateway/payments/{order}`` answers reconciliation queries, signed too.

Each merchant (a unit's portal) has a key of its own: the order's ``merchant``
picks the key that checks its opening and signs its confirmation and status, so
no portal holds a key that another portal would believe.
"""

from __future__ import annotations

import secrets

import httpx
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from dichvucong.checksum import CONFIRM_FIELDS, INIT_FIELDS, checksum, verify


class Gateway:
    """Orders, and the key each merchant shares with its portal.

    + base_url: where the gateway answers
    + keys: merchant -> key; None: every merchant has ``shared_key`` (the loopback stack)
    + shared_key: the one key of all merchants when ``keys`` is None
    """

    def __init__(self, base_url: str, keys: dict[str, str] | None, shared_key: str = ""):
        self.base_url, self.keys, self.shared_key = base_url, keys, shared_key
        self.orders: dict[str, dict] = {}

    def key(self, merchant) -> str:
        """The merchant's key; 403 for a merchant the gateway does not know."""
        key = self.shared_key if self.keys is None else self.keys.get(str(merchant), "")
        if not key:
            raise HTTPException(403, f"unknown merchant {str(merchant)[:100]!r}")
        return key

    def signed(self, order: dict) -> dict:
        """The order's confirmation message, with its checksum under the order's merchant's key."""
        message = {k: order[k] for k in CONFIRM_FIELDS}
        return dict(message, checksum=checksum(message, CONFIRM_FIELDS, self.key(order["merchant"])))


def router(gateway: Gateway) -> APIRouter:
    """The gateway's endpoints, mounted under /gateway."""
    api = APIRouter(prefix="/gateway")

    @api.post("/payments")
    async def open_order(request: Request):
        message = await request.json()
        if not verify(message, INIT_FIELDS, gateway.key(message.get("merchant"))):
            raise HTTPException(403, "bad checksum")
        order = dict(message, status="pending", transaction_id="")
        gateway.orders[str(message["order_id"])] = order
        return {"payment_url": f"{gateway.base_url}/pay/{message['order_id']}"}

    @api.get("/pay/{order_id}")
    async def pay_page(order_id: str):
        if order_id not in gateway.orders:
            raise HTTPException(404, "no such order")
        order = gateway.orders[order_id]
        return HTMLResponse(f"<p>Thanh toán {int(order['amount']):,} đồng</p>"
                            f"<form method=post action='{gateway.base_url}/pay/{order_id}'><button>Thanh toán</button></form>")

    @api.post("/pay/{order_id}")
    async def pay(order_id: str, outcome: str = "success", deliver_callback: bool = True):
        """Settle the order and call the merchant back (the citizen pressed "pay").

        ``deliver_callback=false`` plays a callback lost on the way, which the
        merchant must catch by reconciliation.
        """
        order = gateway.orders.get(order_id)
        if not order:
            raise HTTPException(404, "no such order")
        order.update(status="success" if outcome == "success" else "failed",
                     transaction_id=order["transaction_id"] or secrets.token_hex(8))
        delivered = None  # if the callback fails the merchant reconciles through the status query
        if deliver_callback:
            async with httpx.AsyncClient(timeout=10) as client:
                try:
                    delivered = (await client.post(order["callback_url"], json=gateway.signed(order))).status_code
                except httpx.HTTPError:
                    pass
        return {"order_id": order_id, "status": order["status"], "callback_status": delivered,
                "return_url": order["return_url"]}

    @api.get("/payments/{order_id}")
    async def status(order_id: str):
        order = gateway.orders.get(order_id)
        if not order:
            raise HTTPException(404, "no such order")
        return gateway.signed(order)

    return api
