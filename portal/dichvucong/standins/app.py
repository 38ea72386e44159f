"""The stand-ins as one ASGI app: ``dichvucong.standins.app:create_app``.

Settings (environment): STANDIN_PUBLIC_URL (how the portal reaches it),
STANDIN_STATE_DIR (the national portal's SQLite file), and the shared secrets
STANDIN_SSO_CLIENT_SECRET, STANDIN_PAYMENT_SECRET, STANDIN_NATIONAL_TOKEN (or
their *_FILE forms) which must match the portal's. STANDIN_PAYMENT_SECRETS_FILE,
a JSON file ``{"merchant": "key", ...}``, gives each merchant (each unit's portal)
a key of its own; without it every merchant has STANDIN_PAYMENT_SECRET.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI

from dichvucong.config import secret_from_env, table_from_env
from dichvucong.standins import gateway, national, sso


def create_app() -> FastAPI:
    """Build the stand-ins from the environment."""
    base = os.environ.get("STANDIN_PUBLIC_URL", "http://127.0.0.1:8900").rstrip("/")
    state = Path(os.environ.get("STANDIN_STATE_DIR", "/var/lib/dichvucong-standins"))
    state.mkdir(parents=True, exist_ok=True)
    # The portal's callback lives under its own public URL; the prefix is what the issuer checks.
    redirect_prefix = os.environ.get("STANDIN_SSO_REDIRECT_PREFIX", "http")
    clients = {os.environ.get("STANDIN_SSO_CLIENT_ID", "dichvucong"):
               (secret_from_env("STANDIN_SSO_CLIENT_SECRET"), redirect_prefix)}
    app = FastAPI(title="National-service stand-ins (SSO, payment gateway, national portal)")
    app.include_router(sso.router(sso.Issuer(f"{base}/sso", clients)))
    app.include_router(gateway.router(gateway.Gateway(f"{base}/gateway", table_from_env("STANDIN_PAYMENT_SECRETS_FILE"),
                                                      secret_from_env("STANDIN_PAYMENT_SECRET"))))
    app.include_router(national.router(national.NationalPortal(state / "national.sqlite3",
                                                               secret_from_env("STANDIN_NATIONAL_TOKEN"))))

    @app.get("/healthz")
    async def healthz():
        return {"status": "ok"}

    return app
