"""The portal's settings, read once from the environment (DVC_*).

On a deployed host they come from a systemd EnvironmentFile written by the
deploy; secrets (client secret, payment key, sync token) come from files with
mode 0600 named by the *_FILE variables, never from the repository.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROVINCE_UNIT_CODE = "000.00.00.H56"
MODES = ("province", "onestop")


def secret_from_env(name: str, default: str = "") -> str:
    """A secret from $NAME_FILE (preferred) or $NAME."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text().strip()
    return os.environ.get(name, default)


@dataclass(frozen=True)
class Config:
    """Everything the portal reads from its environment."""

    database_url: str
    unit_code: str
    mode: str
    public_url: str
    upload_dir: Path
    max_upload_bytes: int
    max_files: int
    allowed_types: tuple[str, ...]
    session_seconds: int
    sso_issuer: str
    sso_client_id: str
    sso_client_secret: str
    payment_url: str
    payment_merchant: str
    payment_secret: str
    sync_url: str
    sync_token: str
    sync_inbound_token: str
    db_pool_size: int

    @classmethod
    def from_env(cls) -> "Config":
        """Read the configuration; refuse a mode or unit code that cannot work."""
        env = os.environ.get
        mode = env("DVC_MODE", "province")
        if mode not in MODES:
            raise ValueError(f"DVC_MODE={mode!r}: must be one of {', '.join(MODES)}")
        return cls(
            database_url=env("DVC_DATABASE_URL", "postgresql:///dichvucong"),
            unit_code=env("DVC_UNIT_CODE", PROVINCE_UNIT_CODE),
            mode=mode,
            public_url=env("DVC_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/"),
            upload_dir=Path(env("DVC_UPLOAD_DIR", "/var/lib/dichvucong/uploads")),
            # A scanned land-use certificate runs to a few MB; 20 MB per file covers
            # the attachments desks see, and nginx is set to the same limit.
            max_upload_bytes=int(env("DVC_MAX_UPLOAD_BYTES", str(20 * 1024 * 1024))),
            max_files=int(env("DVC_MAX_FILES", "10")),
            allowed_types=tuple(env("DVC_ALLOWED_TYPES", "application/pdf image/jpeg image/png").split()),
            # Citizens' sessions lock after 15 minutes idle (level 3 obligation).
            session_seconds=int(env("DVC_SESSION_SECONDS", "900")),
            sso_issuer=env("DVC_SSO_ISSUER", "http://127.0.0.1:8900/sso").rstrip("/"),
            sso_client_id=env("DVC_SSO_CLIENT_ID", "dichvucong"),
            sso_client_secret=secret_from_env("DVC_SSO_CLIENT_SECRET"),
            payment_url=env("DVC_PAYMENT_URL", "http://127.0.0.1:8900/gateway").rstrip("/"),
            payment_merchant=env("DVC_PAYMENT_MERCHANT", "H56"),
            payment_secret=secret_from_env("DVC_PAYMENT_SECRET"),
            sync_url=env("DVC_SYNC_URL", "http://127.0.0.1:8900/national").rstrip("/"),
            sync_token=secret_from_env("DVC_SYNC_TOKEN"),
            sync_inbound_token=secret_from_env("DVC_SYNC_INBOUND_TOKEN"),
            db_pool_size=int(env("DVC_DB_POOL_SIZE", "8")),
        )
