"""The portal as an ASGI application: ``dichvucong.app:create_app`` (a factory)."""

from __future__ import annotations

import contextlib
import time

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from dichvucong import __version__, logs, refusals
from dichvucong.auth import IssuerKeys
from dichvucong.config import Config
from dichvucong.db import make_pool
from dichvucong.errors import PortalError
from dichvucong.metrics import MetricsMiddleware
from dichvucong.routes import catalogue, dossiers, login, officer, operations, payments, sync


def create_app(config: Config | None = None) -> FastAPI:
    """Build the portal for ``config`` (default: from the environment)."""
    config = config or Config.from_env()
    logs.setup()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.config = config
        app.state.pool = make_pool(config)
        app.state.http = httpx.AsyncClient(timeout=10)
        app.state.issuer_keys = IssuerKeys(config)
        app.state.refusals = refusals.Allowance(config.security_events_per_minute)
        # Open without waiting for the database: /readyz says when it is reachable.
        await app.state.pool.open(wait=False)
        try:
            yield
        finally:
            await refusals.flush(app)
            await app.state.http.aclose()
            await app.state.pool.close()

    app = FastAPI(title="Cổng dịch vụ công (reference portal)", version=__version__, lifespan=lifespan)
    for module in (operations, catalogue, login, dossiers, officer, payments):
        app.include_router(module.router)
    if config.mode == "province":
        app.include_router(sync.router)

    @app.exception_handler(PortalError)
    async def portal_error(request: Request, error: PortalError):
        return JSONResponse({"error": error.message}, status_code=error.status)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError):
        return JSONResponse({"error": "invalid request",
                             "detail": [{"loc": e["loc"], "msg": e["msg"]} for e in error.errors()]},
                            status_code=422)

    @app.middleware("http")
    async def access_log(request: Request, call_next):
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        logs.event(logs.access, "request", method=request.method, route=getattr(route, "path", "unmatched"),
                   status=response.status_code, ms=round((time.perf_counter() - started) * 1000, 1))
        return response

    app.add_middleware(MetricsMiddleware)
    return app
