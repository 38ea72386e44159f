"""What every route shares: the database connection of a request, its JSON body, and the templates."""

from __future__ import annotations

import contextlib
from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates

from dichvucong.errors import BadRequest

# Autoescaping is on for .html: whatever a citizen typed is shown, never run.
templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))


@contextlib.asynccontextmanager
async def transaction(request: Request, timeout: float | None = None):
    """A pooled connection whose transaction commits if the block succeeds, else rolls back.

    + timeout: seconds to wait for a connection (default: the pool's)
    """
    async with request.app.state.pool.connection(timeout=timeout) as conn:
        yield conn


def config(request: Request):
    """The portal's configuration."""
    return request.app.state.config


async def json_object(request: Request) -> dict:
    """The request's body as a JSON object, or BadRequest (400) for anything else."""
    try:
        body = await request.json()
    except (ValueError, RecursionError):  # not UTF-8, not JSON, or nested past the parser's depth
        body = None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body
