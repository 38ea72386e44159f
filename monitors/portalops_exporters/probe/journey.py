"""The journey prober: a test citizen walks the portal's real flow, step by step.

Steps, in order (the ``step`` label; a bounded set):

- ``catalogue_search``: ``GET /api/procedures?q=<catalogue_query>`` lists ``procedure_code``.
- ``login``: ``GET /auth/login?login_hint=<citizen>``, redirected to the SSO stand-in's
  ``/authorize`` (only there: a portal that sends the login anywhere else, such as the
  national SSO, fails the step and is not followed), back to ``/auth/callback``, which opens
  a session; ``GET /api/me`` answers the test citizen.
- ``upload``: ``POST /api/dossiers`` files a dossier of ``procedure_code`` with one PDF
  attachment of fresh random bytes; the answer gives the dossier code and the attachment's
  SHA-256, which must be the one sent.
- ``lookup``: ``GET /api/dossiers/<code>`` (the citizen's status look-up) shows the dossier,
  status 1 (submitted online), with that attachment listed: the known failure where an
  upload "succeeds" but leaves the dossier without its file fails here.
- ``readback``: ``GET /api/dossiers/<code>/attachments/<id>`` returns the same bytes.
- ``withdraw``: ``POST /api/dossiers/<code>/withdraw`` (status 7), so a test dossier never
  waits in an officer's queue nor turns overdue; attempted whenever a dossier was filed,
  even after a failed step, with a reserve of the probe's time kept for it.
- ``logout``: ``POST /auth/logout`` ends the session; attempted whenever one was opened.

``probe_journey_step_success{step}`` is 1 or 0 for each step attempted, and
``probe_journey_step_duration_seconds{step}`` its time; a step never reached has no sample,
so the failing step is the one at 0. ``probe_success`` is 1 only if every step passed,
clean-up included (a test dossier left behind is a failure too).

What a journey leaves behind, since the portal has no notion of a test dossier: one
withdrawn dossier (status 7) with its 16 KiB attachment per run, a step of the unit's daily
dossier counter, and two sync messages (DongBoHoSoMC, CapNhatTienDoHoSoMC) to the national
portal. Hence: file with a unit kept for testing (``unit_code``; a one-stop host accepts
only its own unit), probe every few minutes rather than every scrape, and run it only where
the sync goes to the national portal's stand-in (the lab) until the portal can mark and
skip test dossiers.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from io import BytesIO
from typing import Callable
from urllib.parse import quote, urlencode, urlsplit

import pycurl

from portalops_exporters.probe.config import JourneySettings, Module
from portalops_exporters.probe.result import ProbeResult
from portalops_exporters.probe.transfer import Handle, Timeout, describe

WALK = ("catalogue_search", "login", "upload", "lookup", "readback")
CLEANUP = ("withdraw", "logout")
STEPS = WALK + CLEANUP  # the ``step`` label's values
SUBMITTED_ONLINE, WITHDRAWN = 1, 7
# Part of the probe's time kept for withdrawing the test dossier and logging out.
CLEANUP_SHARE, CLEANUP_MAX_SECONDS = 0.2, 3.0
PDF_HEADER = b"%PDF-1.4\n% portalops journey probe\n"
# What the test dossier's form says, so an officer who meets one knows what it is.
PROBE_FORM = {"ghi_chu": "Hồ sơ thử của giám sát tự động (portalops journey probe); đã rút ngay."}


class StepFailed(Exception):
    """A step's answer was not what a working portal gives; the message says what was wrong."""


@dataclass(frozen=True)
class Answer:
    """One HTTP answer: status, body, and where a redirect points."""

    status: int
    body: bytes
    location: str

    def json(self) -> dict:
        """The body as a JSON object, or StepFailed."""
        try:
            value = json.loads(self.body)
        except ValueError:
            raise StepFailed(f"answer {self.status} is not JSON: {self.body[:120]!r}") from None
        if not isinstance(value, dict):
            raise StepFailed(f"answer {self.status} is not a JSON object")
        return value


class PortalSession:
    """A browser-like session with the portal: cookies kept, redirects followed only by the caller."""

    def __init__(self, settings: JourneySettings):
        self.handle = Handle(settings.tls)
        self.curl = self.handle.curl
        self.curl.setopt(pycurl.COOKIEFILE, "")

    def ask(self, method: str, url: str, deadline: float, parts: list[dict] | None = None) -> Answer:
        """One request within ``deadline``; ``parts`` (keyword arguments of CurlMime.add) make it multipart."""
        c, body, mime = self.curl, BytesIO(), None
        self.handle.aim(url)
        c.setopt(pycurl.WRITEDATA, body)
        if method == "GET":
            c.setopt(pycurl.HTTPGET, 1)
        elif parts is not None:
            mime = pycurl.CurlMime(c)
            for part in parts:
                mime.add(**part)
            c.setopt(pycurl.MIMEPOST, mime)
        else:
            c.setopt(pycurl.POSTFIELDS, "")
        try:
            self.handle.perform(deadline)
        finally:
            if mime is not None:
                c.unsetopt(pycurl.MIMEPOST)
                mime.close()
        return Answer(c.getinfo(pycurl.RESPONSE_CODE), body.getvalue(), c.getinfo(pycurl.REDIRECT_URL) or "")

    def close(self) -> None:
        """End the handle (the session on the portal ends with the ``logout`` step)."""
        self.handle.close()


def expect(answer: Answer, *statuses: int) -> Answer:
    """``answer`` if its status is one of ``statuses``, else StepFailed quoting the portal's error."""
    if answer.status not in statuses:
        raise StepFailed(f"status {answer.status} (wanted {'/'.join(map(str, statuses))}): {answer.body[:200]!r}")
    return answer


def same_site(a: str, b: str) -> bool:
    """True when two URLs name the same scheme, host and port (a default port written or not)."""
    def site(url: str) -> tuple:
        parts = urlsplit(url)
        return parts.scheme, parts.hostname, parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return site(a) == site(b)


class Walk:
    """One journey of the test citizen through the portal at ``base``."""

    def __init__(self, base: str, settings: JourneySettings, deadline: float, result: ProbeResult):
        self.base, self.settings, self.result = base.rstrip("/"), settings, result
        self.deadline = deadline
        reserve = min(CLEANUP_MAX_SECONDS, CLEANUP_SHARE * max(0.0, deadline - time.monotonic()))
        self.steps_deadline = deadline - reserve
        self.session = PortalSession(settings)
        self.logged_in = False
        self.dossier: str | None = None
        self.attachment: tuple[str, bytes, str] | None = None  # id, bytes, sha256

    def run(self) -> bool:
        """Every step in order, stopping at the first failure; then the clean-up. True if all passed."""
        try:
            passed = all(self.step(name, getattr(self, name), self.steps_deadline) for name in WALK)
            if self.dossier:
                passed = self.step("withdraw", self.withdraw, self.deadline) and passed
            if self.logged_in:
                passed = self.step("logout", self.logout, self.deadline) and passed
            return passed
        finally:
            self.session.close()

    def step(self, name: str, action: Callable[[float], None], deadline: float) -> bool:
        """Run one step, record its success and duration; False (with the reason noted) if it failed."""
        started, reason = time.monotonic(), None
        try:
            action(deadline)
        except StepFailed as failure:
            reason = str(failure)
        except Timeout as timeout:
            reason = str(timeout)
        except pycurl.error as failure:
            reason = describe(failure)
        self.result.set("probe_journey_step_success", "1 if this step of the journey passed, 0 if it failed "
                        "(a step not reached has no sample)", 0 if reason else 1, step=name)
        self.result.set("probe_journey_step_duration_seconds", "Time this step of the journey took, in seconds",
                        time.monotonic() - started, step=name)
        if reason:
            self.result.fail(f"step {name}: {reason}")
        return reason is None

    def get(self, path: str, deadline: float) -> Answer:
        """GET a path of the portal."""
        return self.session.ask("GET", self.base + path, deadline)

    def catalogue_search(self, deadline: float) -> None:
        """The catalogue search lists the journey's procedure."""
        query = urlencode({"q": self.settings.catalogue_query, "limit": 100})
        procedures = expect(self.get(f"/api/procedures?{query}", deadline), 200).json().get("procedures") or []
        codes = [p.get("code") for p in procedures if isinstance(p, dict)]
        if self.settings.procedure_code not in codes:
            raise StepFailed(f"searching {self.settings.catalogue_query!r} found {len(codes)} procedure(s), "
                             f"not {self.settings.procedure_code}")

    def login(self, deadline: float) -> None:
        """Through the SSO stand-in and back, then /api/me is the test citizen."""
        issuer = self.settings.sso_issuer
        query = urlencode({"login_hint": self.settings.citizen, "next": "/api/me"})
        to_sso = expect(self.get(f"/auth/login?{query}", deadline), 302, 303).location
        if not (same_site(to_sso, issuer) and urlsplit(to_sso).path == urlsplit(issuer).path + "/authorize"):
            raise StepFailed(f"the portal sends logins to {urlsplit(to_sso)._replace(query='').geturl()}, not to "
                             f"the SSO stand-in {issuer}; not followed (the journey logs in at the stand-in only)")
        back = expect(self.session.ask("GET", to_sso, deadline), 302, 303).location
        if not same_site(back, self.base) or urlsplit(back).path != "/auth/callback":
            raise StepFailed(f"the SSO stand-in sent the login back to {urlsplit(back)._replace(query='').geturl()}, "
                             f"not to {self.base}/auth/callback: probe the portal at its public URL")
        expect(self.session.ask("GET", back, deadline), 302, 303)
        self.logged_in = True
        me = expect(self.get("/api/me", deadline), 200).json()
        if me.get("sub") != self.settings.citizen:
            raise StepFailed("the session is not the test citizen's")

    def upload(self, deadline: float) -> None:
        """File a dossier with one fresh attachment; its answer carries the attachment's hash."""
        size = self.settings.attachment_bytes
        content = PDF_HEADER + os.urandom(size - len(PDF_HEADER))
        digest = hashlib.sha256(content).hexdigest()
        parts = [{"name": "procedure_code", "data": self.settings.procedure_code.encode()},
                 {"name": "form", "data": json.dumps(PROBE_FORM, ensure_ascii=False).encode()},
                 {"name": "files", "data": content, "filename": "journey-probe.pdf", "content_type": "application/pdf"}]
        if self.settings.unit_code:
            parts.append({"name": "unit_code", "data": self.settings.unit_code.encode()})
        answer = self.session.ask("POST", self.base + "/api/dossiers", deadline, parts=parts)
        dossier = expect(answer, 201).json()
        self.dossier = dossier.get("code") or None
        files = dossier.get("attachments") or []
        if not self.dossier or len(files) != 1:
            raise StepFailed(f"the filed dossier came back with code {self.dossier!r} and {len(files)} attachment(s)")
        if files[0].get("sha256") != digest or files[0].get("size_bytes") != size:
            raise StepFailed("the portal stored an attachment other than the one sent (SHA-256 or size differs)")
        self.attachment = (str(files[0].get("id")), content, digest)

    def lookup(self, deadline: float) -> None:
        """The status look-up shows the dossier, submitted online, with its attachment."""
        dossier = expect(self.get(f"/api/dossiers/{quote(self.dossier)}", deadline), 200).json()
        if dossier.get("code") != self.dossier or dossier.get("status") != SUBMITTED_ONLINE:
            raise StepFailed(f"the look-up answered {dossier.get('code')!r} in status {dossier.get('status')!r}, "
                             f"not {self.dossier} in status {SUBMITTED_ONLINE}")
        listed = {str(a.get("id")): a.get("sha256") for a in dossier.get("attachments") or []}
        attachment_id, _, digest = self.attachment
        if listed.get(attachment_id) != digest:
            raise StepFailed("the dossier does not list the uploaded attachment: the upload left it without its file")

    def readback(self, deadline: float) -> None:
        """The attachment reads back byte for byte."""
        attachment_id, content, _ = self.attachment
        path = f"/api/dossiers/{quote(self.dossier)}/attachments/{quote(attachment_id)}"
        body = expect(self.get(path, deadline), 200).body
        if body != content:
            raise StepFailed(f"read back {len(body)} bytes that differ from the {len(content)} uploaded")

    def withdraw(self, deadline: float) -> None:
        """Withdraw the test dossier (status 7)."""
        answer = self.session.ask("POST", f"{self.base}/api/dossiers/{quote(self.dossier)}/withdraw", deadline)
        if expect(answer, 200).json().get("status") != WITHDRAWN:
            raise StepFailed("the withdrawn dossier is not in status 7")

    def logout(self, deadline: float) -> None:
        """End the session."""
        expect(self.session.ask("POST", self.base + "/auth/logout", deadline), 303, 302, 200)


def probe_journey(base: str, module: Module, deadline: float, result: ProbeResult) -> bool:
    """Walk the journey on the portal at ``base`` (its public URL) before ``deadline``; True if every step passed."""
    return Walk(base, module.journey, deadline, result).run()
