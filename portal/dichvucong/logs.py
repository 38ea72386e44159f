"""Structured logs: one JSON object a line, for journald and the security exporter.

Three streams: ``dichvucong.access`` (one line a request), ``dichvucong.audit``
(who changed which dossier, when) and ``dichvucong.security`` (refused
signatures, forbidden access). No form contents or attachments are ever logged.
"""

from __future__ import annotations

import json
import logging
import sys
import time

access = logging.getLogger("dichvucong.access")
audit = logging.getLogger("dichvucong.audit")
security = logging.getLogger("dichvucong.security")


class JsonFormatter(logging.Formatter):
    """Formats a record's message and its ``fields`` extra as one JSON line."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "log": record.name.removeprefix("dichvucong."),
            "level": record.levelname.lower(),
            "msg": record.getMessage(),
        }
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def setup() -> None:
    """Send the portal's logs, as JSON lines, to standard error (journald on a host)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("dichvucong")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    root.propagate = False


def event(logger: logging.Logger, message: str, **fields) -> None:
    """Log ``message`` with structured ``fields``."""
    logger.info(message, extra={"fields": fields})
