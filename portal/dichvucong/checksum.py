"""The payment platform's SHA-256 checksum over a message's fields and the merchant's key."""

from __future__ import annotations

import hashlib
import hmac

# Field order is part of the contract with the payment platform.
CONFIRM_FIELDS = ("merchant", "order_id", "amount", "status", "transaction_id")
INIT_FIELDS = ("merchant", "order_id", "amount", "return_url", "callback_url")


def checksum(message: dict, fields: tuple[str, ...], secret: str) -> str:
    """Hex SHA-256 of the named fields, then the key, joined by '|'."""
    joined = "|".join(str(message.get(field, "")) for field in fields) + "|" + secret
    return hashlib.sha256(joined.encode()).hexdigest()


def verify(message: dict, fields: tuple[str, ...], secret: str) -> bool:
    """True if the message's 'checksum' matches (compared in constant time)."""
    given = str(message.get("checksum", ""))
    return bool(secret) and hmac.compare_digest(given, checksum(message, fields, secret))
