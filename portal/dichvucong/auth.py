"""Login through the national SSO (OpenID Connect, authorization-code flow with
PKCE) and the sessions that follow it.

The portal never sees a password: it sends the citizen to the SSO, receives a
one-time code on its callback, exchanges it for an ID token, checks the token's
signature (the issuer's published keys), issuer, audience, expiry and nonce,
then opens a session. A session is a random token in an HttpOnly cookie; the
database keeps only its SHA-256. Sessions lock after ``session_seconds`` idle.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

import anyio
import httpx
import jwt
from fastapi import Request

from dichvucong.config import Config
from dichvucong.errors import BadRequest, Forbidden, Unauthorized, Upstream

COOKIE = "dvc_session"
# Logins not completed within this time are forgotten.
LOGIN_ATTEMPT_SECONDS = 600
# Sliding expiry is written at most this often, not on every request.
TOUCH_SECONDS = 60


@dataclass(frozen=True)
class User:
    """Who is logged in: a citizen, or an officer of a unit."""

    sub: str
    name: str
    roles: tuple[str, ...]
    unit_code: str

    @property
    def is_officer(self) -> bool:
        """True for back-office staff."""
        return "officer" in self.roles


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _pkce_challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def safe_return_to(target: str | None) -> str:
    """Only a local path may follow a login, never another site (open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


async def begin_login(conn, config: Config, return_to: str | None, login_hint: str | None) -> str:
    """Record a login attempt; return the SSO URL to send the browser to."""
    state, nonce, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(48)
    await conn.execute(
        "DELETE FROM login_attempts WHERE created_at < now() - make_interval(secs => %s)", (LOGIN_ATTEMPT_SECONDS,))
    await conn.execute(
        "INSERT INTO login_attempts (state, nonce, code_verifier, return_to) VALUES (%s, %s, %s, %s)",
        (state, nonce, verifier, safe_return_to(return_to)))
    query = {
        "response_type": "code", "client_id": config.sso_client_id, "scope": "openid profile",
        "redirect_uri": f"{config.public_url}/auth/callback", "state": state, "nonce": nonce,
        "code_challenge": _pkce_challenge(verifier), "code_challenge_method": "S256",
    }
    if login_hint:
        query["login_hint"] = login_hint
    return f"{config.sso_issuer}/authorize?{urlencode(query)}"


class IssuerKeys:
    """The SSO's signing keys, fetched from its JWKS and cached per worker."""

    def __init__(self, config: Config):
        self.client = jwt.PyJWKClient(f"{config.sso_issuer}/jwks", cache_keys=True, lifespan=3600)

    async def key_for(self, token: str):
        """The public key that signed ``token``."""
        try:
            return (await anyio.to_thread.run_sync(self.client.get_signing_key_from_jwt, token)).key
        except jwt.PyJWKClientError as error:
            raise Upstream(f"cannot read the SSO's keys: {error}") from error


async def finish_login(conn, config: Config, keys: IssuerKeys, http: httpx.AsyncClient,
                       code: str, state: str) -> tuple[str, str]:
    """Exchange the code, check the ID token, open a session; return (token, return_to)."""
    cur = await conn.execute("DELETE FROM login_attempts WHERE state = %s RETURNING *", (state,))
    attempt = await cur.fetchone()
    if not attempt:
        raise BadRequest("unknown or expired login; start again")
    try:
        response = await http.post(f"{config.sso_issuer}/token", data={
            "grant_type": "authorization_code", "code": code,
            "redirect_uri": f"{config.public_url}/auth/callback",
            "code_verifier": attempt["code_verifier"],
        }, auth=(config.sso_client_id, config.sso_client_secret))
    except httpx.HTTPError as error:
        raise Upstream(f"the SSO did not answer: {type(error).__name__}") from error
    if response.status_code != 200:
        raise Unauthorized(f"the SSO refused the login code ({response.status_code})")
    id_token = response.json().get("id_token", "")
    try:
        claims = jwt.decode(id_token, await keys.key_for(id_token), algorithms=["RS256"],
                            audience=config.sso_client_id, issuer=config.sso_issuer,
                            options={"require": ["exp", "iat", "sub", "nonce"]})
    except jwt.InvalidTokenError as error:
        raise Unauthorized(f"the SSO's ID token is not valid: {error}") from error
    if not secrets.compare_digest(claims["nonce"], attempt["nonce"]):
        raise Unauthorized("the SSO's ID token answers another login (nonce)")
    token = secrets.token_urlsafe(32)
    await conn.execute(
        "INSERT INTO sessions (token_sha256, sub, name, roles, unit_code, expires_at) "
        "VALUES (%s, %s, %s, %s, %s, now() + make_interval(secs => %s))",
        (_sha256(token), claims["sub"], claims.get("name", ""), list(claims.get("roles", ["citizen"])),
         claims.get("unit_code", ""), config.session_seconds))
    return token, attempt["return_to"]


async def session_user(conn, config: Config, token: str | None) -> User | None:
    """The user of a live session (sliding its expiry), or None."""
    if not token:
        return None
    cur = await conn.execute(
        "SELECT sub, name, roles, unit_code, extract(epoch FROM expires_at - now()) AS left_seconds "
        "FROM sessions WHERE token_sha256 = %s AND expires_at > now()", (_sha256(token),))
    row = await cur.fetchone()
    if not row:
        return None
    if config.session_seconds - float(row["left_seconds"]) > TOUCH_SECONDS:
        await conn.execute("UPDATE sessions SET expires_at = now() + make_interval(secs => %s) "
                           "WHERE token_sha256 = %s", (config.session_seconds, _sha256(token)))
    return User(row["sub"], row["name"], tuple(row["roles"]), row["unit_code"])


async def end_session(conn, token: str | None) -> None:
    """Log out: the session's token stops working at once."""
    if token:
        await conn.execute("DELETE FROM sessions WHERE token_sha256 = %s", (_sha256(token),))


async def require_user(request: Request) -> User:
    """The logged-in user, or 401."""
    user = await _user(request)
    if not user:
        raise Unauthorized("log in first (/auth/login)")
    return user


async def require_officer(request: Request) -> User:
    """A logged-in officer, or 401/403."""
    user = await require_user(request)
    if not user.is_officer:
        raise Forbidden("this is for officers")
    return user


async def _user(request: Request) -> User | None:
    if "user" not in request.state._state:
        state = request.app.state
        async with state.pool.connection() as conn:
            request.state.user = await session_user(conn, state.config, request.cookies.get(COOKIE))
    return request.state.user
