"""The exporter's saved state: JSON files written whole or not at all."""

from __future__ import annotations

import json
import os
import tempfile


def load(path: str | None) -> dict | None:
    """The JSON object saved at ``path``, or None when there is none (or it cannot be read as one)."""
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as file:
            data = json.load(file)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def save(path: str, data: dict) -> None:
    """Write ``data`` to ``path`` atomically: a crash leaves the old file or the new, never half of one."""
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, mode=0o750, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=".state-", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            json.dump(data, file, separators=(",", ":"))
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
