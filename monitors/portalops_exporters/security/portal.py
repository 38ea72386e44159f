"""The portal's security events: its ``dichvucong.security`` JSON lines in the journal
(portal/dichvucong/logs.py), written by the portal's systemd unit.

    {"ts": "2026-03-02T10:15:42.117Z", "log": "security", "level": "info",
     "msg": "payment callback with a bad checksum refused", "order_id": "..."}

The event is named from ``msg``, a fixed text in the portal's code; a message this table
does not know counts as ``other``. No field of the line (order, dossier, actor) is kept.
"""

from __future__ import annotations

import json

from portalops_exporters.security.events import Event

EVENTS = {
    "payment callback with a bad checksum refused": "payment_signature_invalid",
    "sync message with a bad token refused": "sync_token_invalid",
    "sync message from an unknown sender refused": "sync_unknown_sender",
    "sync message for another unit refused": "sync_foreign_unit",
    "security events suppressed": "suppressed",
    "officer acted outside their unit": "officer_outside_unit",
    "attachment access refused": "attachment_access_refused",
}


def parse(message: str) -> list[Event]:
    """The security event one line of the portal's output records, if it is one."""
    if not message.startswith("{") or '"security"' not in message:
        return []  # the access and audit streams are most lines: no JSON parsing for them
    try:
        line = json.loads(message)
    except (ValueError, RecursionError):  # deeply nested garbage raises RecursionError
        return []
    if not isinstance(line, dict) or line.get("log") != "security":
        return []
    text = line.get("msg")
    return [("portal_refusals", (EVENTS.get(text, "other") if isinstance(text, str) else "other",))]
