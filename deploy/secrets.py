"""Secrets the deploys generate (database passwords, tokens), kept on the controller only.

Each lives in its own file, mode 0600, in ``secrets_dir`` (mode 0700, default
~/.local/share/portalops/secrets, outside any work tree), made once and reused,
so that every deploy of the province agrees on it and none is ever committed.
"""

from __future__ import annotations

import os
import re
import secrets as random
from pathlib import Path

NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


def secrets_dir(configured: str | None = None) -> Path:
    """Where the secrets live: the data's ``secrets_dir``, else the default."""
    if configured:
        return Path(configured)
    return Path(os.environ.get("PORTALOPS_SECRETS_DIR", Path.home() / ".local/share/portalops/secrets"))


def secret(name: str, directory: Path) -> str:
    """The secret called ``name``, generated (32 random bytes, URL-safe) the first time."""
    if not NAME.match(name):
        raise ValueError(f"bad secret name {name!r}")
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    path = directory / name
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(random.token_urlsafe(32))
    return path.read_text().strip()
