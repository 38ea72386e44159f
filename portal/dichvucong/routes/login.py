"""Login through the SSO stand-in (or the national SSO), and logout."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse

from dichvucong import auth
from dichvucong.web import config, transaction

router = APIRouter()


@router.get("/auth/login")
async def login(request: Request, next: str | None = None, login_hint: str | None = Query(None, max_length=100)):
    """Send the browser to the SSO; it comes back to /auth/callback."""
    async with transaction(request) as conn:
        url = await auth.begin_login(conn, config(request), next, login_hint)
    return RedirectResponse(url, status_code=302)


@router.get("/auth/callback")
async def callback(request: Request, code: str = Query(..., max_length=200), state: str = Query(..., max_length=200)):
    """The SSO's redirect back: open a session and go where the user was going."""
    app_state = request.app.state
    async with transaction(request) as conn:
        token, return_to = await auth.finish_login(conn, app_state.config, app_state.issuer_keys, app_state.http,
                                                   code, state)
    response = RedirectResponse(return_to, status_code=302)
    response.set_cookie(auth.COOKIE, token, httponly=True, samesite="lax", path="/",
                        secure=config(request).public_url.startswith("https://"))
    return response


@router.post("/auth/logout")
async def logout(request: Request):
    """End the session."""
    async with transaction(request) as conn:
        await auth.end_session(conn, request.cookies.get(auth.COOKIE))
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(auth.COOKIE, path="/")
    return response


@router.get("/api/me")
async def me(user: auth.User = Depends(auth.require_user)):
    """Who is logged in."""
    return {"sub": user.sub, "name": user.name, "roles": list(user.roles), "unit_code": user.unit_code}
