"""An OpenID Connect issuer standing in for the national SSO (authorization code + PKCE).

Users are a fixed directory: citizens identified by a 12-digit citizen number,
and officers ``canbo-<unit code>`` of any unit. ``login_hint`` picks the user
without a form, as automated journeys need; without it a form asks.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jwt.algorithms import RSAAlgorithm

CODE_SECONDS = 60
TOKEN_SECONDS = 300
CITIZEN = re.compile(r"^\d{12}$")
OFFICER = re.compile(r"^canbo-(\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2})$")


def identity(login: str) -> dict:
    """The claims of a stand-in user, or 404 for a login the directory does not know."""
    if CITIZEN.match(login):
        return {"sub": login, "name": f"Công dân {login[-4:]}", "roles": ["citizen"]}
    if match := OFFICER.match(login):
        return {"sub": login, "name": f"Cán bộ {match.group(1)}", "roles": ["officer"], "unit_code": match.group(1)}
    raise HTTPException(404, f"no user {login!r}: use a 12-digit citizen number or canbo-<unit code>")


class Issuer:
    """The issuer's key, registered clients and codes in flight."""

    def __init__(self, base_url: str, clients: dict[str, tuple[str, str]]):
        self.base_url = base_url
        self.clients = clients  # client_id -> (secret, redirect URI prefix)
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = secrets.token_hex(4)
        self.codes: dict[str, dict] = {}

    def jwks(self) -> dict:
        """The public key, as a JWKS."""
        jwk = RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return {"keys": [dict(jwk, kid=self.kid, use="sig", alg="RS256")]}

    def issue_code(self, client_id: str, redirect_uri: str, claims: dict, nonce: str, challenge: str) -> str:
        """A one-time code for the client, remembered for CODE_SECONDS."""
        now = time.time()
        self.codes = {c: v for c, v in self.codes.items() if v["expires"] > now}
        code = secrets.token_urlsafe(24)
        self.codes[code] = {"client_id": client_id, "redirect_uri": redirect_uri, "claims": claims,
                            "nonce": nonce, "challenge": challenge, "expires": now + CODE_SECONDS}
        return code

    def redeem(self, code: str, client_id: str, redirect_uri: str, verifier: str) -> dict:
        """The signed tokens for a valid code (which is then spent)."""
        entry = self.codes.pop(code, None)
        if not entry or entry["expires"] < time.time():
            raise HTTPException(400, "invalid_grant")
        if entry["client_id"] != client_id or entry["redirect_uri"] != redirect_uri:
            raise HTTPException(400, "invalid_grant")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if not secrets.compare_digest(challenge, entry["challenge"]):
            raise HTTPException(400, "invalid_grant (PKCE)")
        now = int(time.time())
        claims = dict(entry["claims"], iss=self.base_url, aud=client_id, iat=now, exp=now + TOKEN_SECONDS,
                      nonce=entry["nonce"])
        id_token = jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})
        return {"access_token": secrets.token_urlsafe(24), "token_type": "Bearer", "expires_in": TOKEN_SECONDS,
                "id_token": id_token}


def router(issuer: Issuer) -> APIRouter:
    """The issuer's endpoints, mounted under /sso."""
    api = APIRouter(prefix="/sso")

    @api.get("/.well-known/openid-configuration")
    async def discovery():
        base = issuer.base_url
        return {"issuer": base, "authorization_endpoint": f"{base}/authorize", "token_endpoint": f"{base}/token",
                "jwks_uri": f"{base}/jwks", "response_types_supported": ["code"],
                "id_token_signing_alg_values_supported": ["RS256"], "code_challenge_methods_supported": ["S256"]}

    @api.get("/jwks")
    async def jwks():
        return issuer.jwks()

    def _check_client(client_id: str, redirect_uri: str) -> None:
        client = issuer.clients.get(client_id)
        if not client or not redirect_uri.startswith(client[1]):
            raise HTTPException(400, "unknown client or redirect_uri")

    @api.get("/authorize")
    async def authorize(client_id: str, redirect_uri: str, state: str, nonce: str, code_challenge: str,
                        response_type: str = "code", code_challenge_method: str = "S256",
                        login_hint: str | None = Query(None, max_length=100)):
        _check_client(client_id, redirect_uri)
        if response_type != "code" or code_challenge_method != "S256":
            raise HTTPException(400, "only response_type=code with S256 PKCE")
        if not login_hint:
            hidden = "".join(f'<input type="hidden" name="{k}" value="{v}">' for k, v in {
                "client_id": client_id, "redirect_uri": redirect_uri, "state": state, "nonce": nonce,
                "code_challenge": code_challenge}.items() if re.fullmatch(r"[\w\-.:/?=&%]*", v))
            return HTMLResponse(f"<form method=post action='{issuer.base_url}/login'>{hidden}"
                                "Số định danh: <input name=login_hint> <button>Đăng nhập</button></form>")
        code = issuer.issue_code(client_id, redirect_uri, identity(login_hint), nonce, code_challenge)
        return RedirectResponse(f"{redirect_uri}?{urlencode({'code': code, 'state': state})}", status_code=302)

    @api.post("/login")
    async def login_form(client_id: str = Form(...), redirect_uri: str = Form(...), state: str = Form(...),
                         nonce: str = Form(...), code_challenge: str = Form(...), login_hint: str = Form(...)):
        return await authorize(client_id, redirect_uri, state, nonce, code_challenge, login_hint=login_hint)

    @api.post("/token")
    async def token(request: Request, grant_type: str = Form(...), code: str = Form(...),
                    redirect_uri: str = Form(...), code_verifier: str = Form(...)):
        if grant_type != "authorization_code":
            raise HTTPException(400, "unsupported_grant_type")
        auth = request.headers.get("authorization", "")
        try:
            client_id, secret = base64.b64decode(auth.removeprefix("Basic ")).decode().split(":", 1)
        except ValueError:
            raise HTTPException(401, "invalid_client") from None
        client = issuer.clients.get(client_id)
        if not client or not secrets.compare_digest(secret, client[0]):
            raise HTTPException(401, "invalid_client")
        return issuer.redeem(code, client_id, redirect_uri, code_verifier)

    return api
