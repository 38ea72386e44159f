"""The journey prober against a small fake of the portal's journey endpoints and the SSO stand-in,
broken on purpose one way at a time: the failing step is named, the test dossier is still withdrawn.

(tests/unit/test_probe_journey_portal.py walks the real portal.)"""

import hashlib
import json
import time
from email import message_from_bytes
from email.policy import HTTP
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.probe_servers import WebServer, exporter_at, fetch, samples

CITIZEN = "001099000001"
PROCEDURE = "HT.c.001"
STEPS = ["catalogue_search", "login", "upload", "lookup", "readback", "withdraw", "logout"]


def reply(handler, status: int, body: bytes | dict = b"", headers: tuple = ()) -> None:
    if isinstance(body, dict):
        body, headers = json.dumps(body).encode(), (*headers, ("Content-Type", "application/json"))
    handler.send_response(status)
    for name, value in headers:
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


class FakePortal:
    """The endpoints the journey walks, with ``faults`` to break one of them."""

    def __init__(self, faults: set[str] = frozenset()):
        self.faults, self.dossiers, self.files = set(faults), {}, {}

    def __call__(self, h) -> None:
        path, query = urlsplit(h.path).path, parse_qs(urlsplit(h.path).query)
        body = h.rfile.read(int(h.headers.get("Content-Length") or 0))
        signed_in = "dvc_session=token" in (h.headers.get("Cookie") or "")
        parts = path.strip("/").split("/")
        if path == "/api/procedures":
            found = [] if "catalogue" in self.faults else [{"code": PROCEDURE, "name": "Đăng ký khai sinh"}]
            return reply(h, 200, {"procedures": found})
        if path == "/auth/login":
            back = f"{self.url}/auth/callback"
            sso = self.foreign_sso if "foreign_sso" in self.faults else self.sso
            target = f"{sso}/sso/authorize?{urlencode({'login_hint': query['login_hint'][0], 'redirect_uri': back})}"
            return reply(h, 302, headers=(("Location", target),))
        if path == "/auth/callback":
            return reply(h, 302, headers=(("Location", "/api/me"), ("Set-Cookie", "dvc_session=token; Path=/")))
        if path == "/api/me":
            return reply(h, 200, {"sub": CITIZEN}) if signed_in else reply(h, 401, {"error": "log in"})
        if path == "/auth/logout":
            return reply(h, 303, headers=(("Location", "/"), ("Set-Cookie", "dvc_session=; Max-Age=0; Path=/")))
        if not signed_in:
            return reply(h, 401, {"error": "log in first"})
        if path == "/api/dossiers" and h.command == "POST":
            return self.submit(h, body)
        code = parts[2]
        if len(parts) == 3:
            listed = [] if "lose_attachment" in self.faults else self.dossiers[code]["attachments"]
            return reply(h, 200, {**self.dossiers[code], "attachments": listed})
        if parts[3] == "withdraw":
            self.dossiers[code]["status"] = 7
            return reply(h, 200, self.dossiers[code])
        content = self.files[parts[4]]
        if "stall_readback" in self.faults:
            time.sleep(5)
            return  # the probe has long given up; nothing to answer
        return reply(h, 200, content[:-1] + b"X" if "corrupt" in self.faults else content)

    def submit(self, h, body: bytes) -> None:
        message = message_from_bytes(b"Content-Type: " + h.headers["Content-Type"].encode() + b"\r\n\r\n" + body,
                                     policy=HTTP)
        fields = {p.get_param("name", header="content-disposition"): p.get_payload(decode=True)
                  for p in message.iter_parts()}
        code = f"000.00.00.H56-260101-{len(self.dossiers) + 1:04d}"
        attachment = {"id": f"a{len(self.files)}", "size_bytes": len(fields["files"]),
                      "sha256": hashlib.sha256(fields["files"]).hexdigest()}
        self.files[attachment["id"]] = fields["files"]
        self.dossiers[code] = {"code": code, "status": 1, "procedure_code": fields["procedure_code"].decode(),
                               "attachments": [attachment]}
        reply(h, 201, self.dossiers[code])


def sso_stand_in(h) -> None:
    """/sso/authorize: the stand-in logs the hinted citizen in and sends the browser back."""
    query = parse_qs(urlsplit(h.path).query)
    reply(h, 302, headers=(("Location", f"{query['redirect_uri'][0]}?code=c&state=s"),))


def walk(faults: set[str] = frozenset(), timeout: str = "20s"):
    """Run one journey probe through /probe against a fake portal with ``faults``; (gauges, portal, foreign SSO)."""
    portal = FakePortal(faults)
    with WebServer({"/sso/authorize": sso_stand_in}) as sso, WebServer({"*": sso_stand_in}) as foreign, \
            WebServer({"*": portal}) as site:
        portal.url, portal.sso, portal.foreign_sso = site.url, sso.url, foreign.url
        journey = {"citizen": CITIZEN, "sso_issuer": sso.url + "/sso", "catalogue_query": "khai sinh",
                   "procedure_code": PROCEDURE, "attachment_bytes": 4096}
        config = {"modules": {"journey": {"prober": "journey", "timeout": timeout, "journey": journey}}}
        with exporter_at(config) as exporter:
            status, text = fetch(f"{exporter}/probe?{urlencode({'module': 'journey', 'target': site.url})}")
        assert status == 200, text
        return samples(text), portal, foreign.hits


def steps(found: dict[str, float]) -> dict[str, float]:
    return {s: found[f'probe_journey_step_success{{step="{s}"}}'] for s in STEPS
            if f'probe_journey_step_success{{step="{s}"}}' in found}


def test_a_working_portal_passes_every_step_and_the_test_dossier_ends_withdrawn():
    found, portal, _ = walk()
    assert found["probe_success"] == 1
    assert steps(found) == dict.fromkeys(STEPS, 1)
    assert all(found[f'probe_journey_step_duration_seconds{{step="{s}"}}'] > 0 for s in STEPS)
    [dossier] = portal.dossiers.values()
    assert dossier["status"] == 7 and dossier["procedure_code"] == PROCEDURE
    [content] = portal.files.values()
    assert len(content) == 4096 and content.startswith(b"%PDF-")


def test_a_dossier_left_without_its_attachment_fails_the_lookup_step_and_is_still_withdrawn():
    found, portal, _ = walk({"lose_attachment"})
    assert found["probe_success"] == 0
    assert steps(found) == {"catalogue_search": 1, "login": 1, "upload": 1, "lookup": 0, "withdraw": 1, "logout": 1}
    assert [d["status"] for d in portal.dossiers.values()] == [7]


def test_an_attachment_read_back_altered_fails_the_readback_step():
    found, _, _ = walk({"corrupt"})
    assert found["probe_success"] == 0
    assert steps(found)["readback"] == 0
    assert steps(found)["lookup"] == 1 and steps(found)["withdraw"] == 1


def test_a_login_sent_to_another_sso_fails_the_login_step_and_is_never_followed_there():
    found, portal, foreign_hits = walk({"foreign_sso"})
    assert found["probe_success"] == 0
    assert steps(found) == {"catalogue_search": 1, "login": 0}
    assert foreign_hits == {} and portal.dossiers == {}


def test_a_catalogue_without_the_procedure_stops_the_journey_at_its_first_step():
    found, portal, _ = walk({"catalogue"})
    assert steps(found) == {"catalogue_search": 0}
    assert found["probe_success"] == 0 and portal.dossiers == {}


def test_a_step_that_stalls_fails_on_time_and_the_reserve_still_withdraws_the_dossier():
    found, portal, _ = walk({"stall_readback"}, timeout="3s")
    assert steps(found)["readback"] == 0
    assert steps(found)["withdraw"] == 1
    assert [d["status"] for d in portal.dossiers.values()] == [7]
    assert found["probe_duration_seconds"] < 3.2


@pytest.mark.parametrize("fault", ["lose_attachment", "corrupt", "foreign_sso", "catalogue"])
def test_a_failed_step_is_named_in_the_debug_answer(fault):
    portal = FakePortal({fault})
    with WebServer({"/sso/authorize": sso_stand_in}) as sso, WebServer({"*": sso_stand_in}) as foreign, \
            WebServer({"*": portal}) as site:
        portal.url, portal.sso, portal.foreign_sso = site.url, sso.url, foreign.url
        journey = {"citizen": CITIZEN, "sso_issuer": sso.url + "/sso", "catalogue_query": "khai sinh",
                   "procedure_code": PROCEDURE}
        with exporter_at({"modules": {"journey": {"prober": "journey", "journey": journey}}}) as exporter:
            _, text = fetch(f"{exporter}/probe?{urlencode({'module': 'journey', 'target': site.url, 'debug': 'true'})}")
    failed = {"lose_attachment": "step lookup", "corrupt": "step readback", "foreign_sso": "step login",
              "catalogue": "step catalogue_search"}[fault]
    assert f"- {failed}: " in text
