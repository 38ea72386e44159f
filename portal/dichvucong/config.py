"""The portal's settings, read once from the environment (DVC_*).

On a deployed host they come from a systemd EnvironmentFile written by the
deploy; secrets (client secret, payment key, sync token, the sync client's
certificate key) come from files with mode 0600 named by the *_FILE variables,
never from the repository.
"""

from __future__ import annotations

import json
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


def table_from_env(name: str) -> dict[str, str] | None:
    """The JSON object ``{"name": "value", ...}`` in the file $NAME names (None if unset)."""
    path = os.environ.get(name)
    if not path:
        return None
    try:
        table = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        raise ValueError(f"{name}={path}: {error}") from error
    if not isinstance(table, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in table.items()):
        raise ValueError(f"{name}={path}: must be a JSON object of strings")
    return table


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
    sync_senders: dict[str, str] | None
    sync_client_cert_file: str
    sync_client_key_file: str
    security_events_per_minute: int
    db_pool_size: int

    @classmethod
    def from_env(cls) -> "Config":
        """Read the configuration; refuse a mode or unit code that cannot work."""
        env = os.environ.get
        mode = env("DVC_MODE", "province")
        if mode not in MODES:
            raise ValueError(f"DVC_MODE={mode!r}: must be one of {', '.join(MODES)}")
        if env("DVC_SYNC_CLIENT_KEY_FILE") and not env("DVC_SYNC_CLIENT_CERT_FILE"):
            raise ValueError("DVC_SYNC_CLIENT_KEY_FILE is set without DVC_SYNC_CLIENT_CERT_FILE")
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
            # The province: one-stop host name (its client certificate's common name, which nginx
            # passes on) -> the one unit whose dossiers it may sync. Unset: any holder of the token.
            sync_senders=table_from_env("DVC_SYNC_SENDERS_FILE"),
            # A one-stop host: the certificate (and its key) it presents to the province's nginx.
            sync_client_cert_file=env("DVC_SYNC_CLIENT_CERT_FILE", ""),
            sync_client_key_file=env("DVC_SYNC_CLIENT_KEY_FILE", ""),
            # A flood of forged callbacks or foreign sync messages must not grow the database and the
            # journal without bound. Per kind and worker, this many rows and log lines a minute keep
            # every event of an ordinary incident, and a flood costs at most this many x kinds x workers
            # rows a minute (at the default, 4 kinds and 3 workers: some 250 MB a day) instead of one
            # a request. Beyond it refusals are only counted (dichvucong_security_refusals_total) and
            # summed in one row; set it lower and an incident's review sees fewer order ids.
            security_events_per_minute=int(env("DVC_SECURITY_EVENTS_PER_MINUTE", "60")),
            db_pool_size=int(env("DVC_DB_POOL_SIZE", "8")),
        )
