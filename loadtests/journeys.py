"""The portal's journeys as Locust users: each visit is one person's errand, step by step,
every answer checked for what it must contain, not only for its status.

- ``Catalogue``: a citizen opens the portal, searches procedures and reads one.
- ``Applicant``: logs in through the SSO stand-in, looks at their dossiers, pays the fees
  officers asked for through the payment gateway stand-in (the confirm callback moves the
  dossier on), files a new dossier with attachments of a realistic size mix, checks that the
  portal holds every file, and logs out.
- ``StatusLookup``: anyone with a dossier code looks its status up (JSON and page).
- ``Officer``: an officer of a unit logs in, opens the unit's queue and moves dossiers on:
  receive, ask for the fee (full-process procedures with a fee), process, result ready,
  result returned.
- ``OneStopSync``: a commune's one-stop host sends the province a dossier received at its
  desk and the moves made on it (DongBoHoSoMC, CapNhatTienDoHoSoMC), as its outbox does.

Every visit also counts as one request of type ``JOURNEY`` named after the journey, lasting
the whole visit and failed if any step failed, so the statistics hold per-journey figures
next to the per-endpoint ones. URLs are grouped with ``name=`` (``/api/dossiers/[code]``).

What a run leaves on the portal: real dossiers (filed, paid, processed), sessions that were
logged out, sync messages forwarded to the national stand-in. Run it on the lab or a
staging copy, never on the province's production portal.
"""

from __future__ import annotations

import json
import random
import re
import time
import uuid
from datetime import datetime, timedelta, timezone

from locust import HttpUser, task
from locust.exception import StopUser

from loadtests import pacing
from loadtests.model import ATTACHMENT_SIZES
from loadtests.run_context import context
from loadtests.slo import JOURNEY
from loadtests.sources import SourceAddressAdapter

DOSSIER_CODE = re.compile(r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}-\d{6}-\d{4}$")
MISTYPED_CODE = "000.00.00.H56-000101-0000"
# Officer moves: status -> action (2 depends on the fee, 6 waits for the applicant's payment).
NEXT_ACTION = {1: "receive", 4: "result-ready", 9: "return-result"}


class StepFailed(Exception):
    """A step's answer was wrong; the visit stops there."""


class Visit(HttpUser):
    """One kind of visitor. Subclasses name their ``journey`` and walk it in :meth:`walk`."""

    abstract = True
    journey = ""
    host = "https://portal.invalid"  # replaced by the run's target

    def on_start(self):
        run = context()
        self.host = run.target.base_url
        self.client.base_url = run.target.base_url
        self.client.verify = run.target.ca_file or True
        if run.target.source_addresses:
            address = run.next_source_address()
            self.client.mount(run.target.base_url, SourceAddressAdapter(address))
        plan = run.plans[self.journey]
        self.slots = pacing.slots(run.profile, plan.users, plan.rate_per_second, pacing.random_phase())
        run.arrivals.plan(self.journey, len(self.slots))
        self.next_slot = 0

    @task
    def visit(self):
        """Wait for this user's next slot, then walk the journey once and record it whole.
        A user whose slots are all past, or who reaches a slot only after the run's end (its
        visits ran late), stops: the slots it missed count against the run's throughput."""
        run = context()
        if self.next_slot >= len(self.slots):
            raise StopUser()
        slot = self.slots[self.next_slot]
        self.next_slot += 1
        wait = slot - run.elapsed()
        if wait > 0:
            time.sleep(wait)
        elif run.elapsed() >= run.profile.duration:
            raise StopUser()
        run.arrivals.start(self.journey, max(0.0, -wait))
        self.waited, error = 0.0, None
        try:
            self.walk()
        except StepFailed as failure:
            error = failure
        except Exception as failure:  # a broken answer the steps did not foresee: the visit failed
            error = StepFailed(f"{type(failure).__name__}: {failure}")
        # The visit's figure is the time the person waited for the portal, think time left out.
        self.environment.events.request.fire(request_type=JOURNEY, name=self.journey, response_time=self.waited * 1000,
                                             response_length=0, exception=error, context={})

    def walk(self):
        raise NotImplementedError

    # --- steps -----------------------------------------------------------------------------

    def step(self, method: str, path: str, name: str, expect=(200,), check=None, **kwargs):
        """One request, failed unless its status is in ``expect`` and ``check(response)`` passes
        (``check`` raises StepFailed or returns a value, which this returns)."""
        started = time.perf_counter()
        with self.client.request(method, path, name=name, catch_response=True, **kwargs) as response:
            self.waited += time.perf_counter() - started
            if response.status_code not in expect:
                said = response.error if response.status_code == 0 else repr(response.text[:200])
                problem = f"{method} {name}: status {response.status_code}: {said}"
                response.failure(problem)
                raise StepFailed(problem)
            try:
                value = check(response) if check else None
            except (StepFailed, ValueError, KeyError, TypeError) as error:
                problem = f"{method} {name}: {error}"
                response.failure(problem)
                raise StepFailed(problem) from None
            response.success()
            return value

    def think(self, seconds: float):
        """A person reading or typing, about ``seconds`` long."""
        time.sleep(random.uniform(0.5, 1.5) * seconds)

    def log_in(self, login: str):
        """Log in through the SSO stand-in (the redirects followed), then check who we are."""
        def landed(response):
            require(response.url.startswith(self.host), f"login ended at {response.url}, not on the portal")
        self.step("GET", f"/auth/login?login_hint={login}", name="/auth/login (SSO)", check=landed)

        def me(response):
            if response.json()["sub"] != login:
                raise StepFailed(f"/api/me says {response.json()['sub']!r}, not {login!r}")
        self.step("GET", "/api/me", name="/api/me", check=me)

    def log_out(self):
        """End the session (a redirect to the home page)."""
        self.step("POST", "/auth/logout", name="/auth/logout", expect=(200, 303), allow_redirects=False)
        self.client.cookies.clear()


def require(condition, problem: str) -> None:
    """StepFailed with ``problem`` unless ``condition`` holds."""
    if not condition:
        raise StepFailed(problem)


def json_with(*keys):
    """A check that the answer is a JSON object holding ``keys``; returns the object."""
    def check(response):
        value = response.json()
        missing = [key for key in keys if key not in value]
        if missing:
            raise StepFailed(f"answer lacks {', '.join(missing)}")
        return value
    return check


class Catalogue(Visit):
    """A citizen browsing the procedure catalogue."""

    journey = "catalogue"

    def walk(self):
        run = context()
        words = run.search_words()
        self.step("GET", "/", name="/ (catalogue page)",
                  check=lambda r: require("<form" in r.text, "the page has no search form"))
        self.think(2)

        def found(response):
            procedures = json_with("procedures")(response)["procedures"]
            if not procedures or not all("code" in p and "name" in p for p in procedures):
                raise StepFailed(f"no procedure found for {words!r}")
            return procedures
        procedures = self.step("GET", "/api/procedures", name="/api/procedures?q=[words]",
                               params={"q": words}, check=found)
        self.think(3)
        chosen = random.choice(procedures)["code"]
        self.step("GET", f"/api/procedures/{chosen}", name="/api/procedures/[code]",
                  check=lambda r: require(r.json().get("code") == chosen, f"asked for {chosen}, got {r.text[:100]!r}"))


class Applicant(Visit):
    """A citizen who pays what is due and files a new dossier with attachments."""

    journey = "applicant"

    def on_start(self):
        super().on_start()
        # Thanh Hóa's citizen numbers start with its code, 038; the rest is this user's.
        self.citizen = f"0380{random.randrange(10 ** 8):08d}"

    def walk(self):
        run = context()
        self.log_in(self.citizen)
        try:
            mine = self.step("GET", "/api/my/dossiers", name="/api/my/dossiers", check=json_with("dossiers"))
            for dossier in mine["dossiers"]:
                if dossier["status"] == 6:
                    self.pay(dossier["code"])
            self.think(4)
            procedure = run.pick_procedure()
            self.file(procedure, run.unit_for(procedure))
        finally:
            self.log_out()

    def pay(self, code: str):
        """Pay a requested fee through the gateway stand-in; its callback moves the dossier to 4."""
        order = self.step("POST", f"/api/dossiers/{code}/payments", name="/api/dossiers/[code]/payments",
                          expect=(201,), check=json_with("order_id", "payment_url", "amount_vnd"))

        def paid(response):
            outcome = response.json()
            require(outcome.get("status") == "success" and outcome.get("callback_status") == 200,
                    f"payment {order['order_id']} of {code}: {outcome!r:.200}")
        # The citizen's browser on the payment platform: another site, not the portal.
        self.step("POST", order["payment_url"], name="gateway: pay", check=paid)

        def processing(response):
            if response.json()["status"] != 4:
                raise StepFailed(f"dossier {code} is in status {response.json()['status']} after payment, not 4")
        self.step("GET", f"/api/dossiers/{code}", name="/api/dossiers/[code]", check=processing)

    def file(self, procedure: dict, unit_code: str):
        """File a dossier of ``procedure`` with ``unit_code``, then check the portal holds every file."""
        run = context()
        files = [("files", (f"giay-to-{n + 1}.pdf", run.attachment(size), "application/pdf"))
                 for n, size in enumerate(run.attachment_sizes())]
        form = {"ho_ten": f"Công dân {self.citizen[-4:]}", "noi_dung": "Hồ sơ của bài kiểm thử tải"}
        data = {"procedure_code": procedure["code"], "unit_code": unit_code, "form": json.dumps(form)}

        def filed(response):
            dossier = json_with("code", "status", "attachments")(response)
            if not DOSSIER_CODE.match(dossier["code"]) or dossier["status"] != 1:
                raise StepFailed(f"filed dossier {dossier['code']!r} in status {dossier['status']}")
            if len(dossier["attachments"]) != len(files):
                raise StepFailed(f"{len(files)} files sent, {len(dossier['attachments'])} stored")
            return dossier
        dossier = self.step("POST", "/api/dossiers", name="/api/dossiers (file)", expect=(201,), data=data,
                            files=files, check=filed)
        run.remember(dossier["code"])

        def holds_every_file(response):
            stored = {a["sha256"] for a in response.json()["attachments"]}
            if stored != {a["sha256"] for a in dossier["attachments"]}:
                raise StepFailed(f"dossier {dossier['code']} lists other files than were filed")
        self.step("GET", f"/api/dossiers/{dossier['code']}", name="/api/dossiers/[code]", check=holds_every_file)


class StatusLookup(Visit):
    """Anyone looking a dossier's status up by its code."""

    journey = "status_lookup"

    def walk(self):
        code = context().known_code()
        if code is None:  # nothing filed yet: a mistyped code must get a clear "not found"
            self.step("GET", f"/api/dossiers/{MISTYPED_CODE}", name="/api/dossiers/[code]", expect=(404,))
            return

        def shows(response):
            value = response.json()
            if value.get("code") != code or not 1 <= int(value.get("status", 0)) <= 10:
                raise StepFailed(f"look-up of {code} answered {value!r:.200}")
        self.step("GET", f"/api/dossiers/{code}", name="/api/dossiers/[code]", check=shows)
        self.think(2)
        self.step("GET", f"/dossiers/{code}", name="/dossiers/[code] (page)",
                  check=lambda r: require(code in r.text, f"the page of {code} does not show it"))


class Officer(Visit):
    """An officer of a unit working the unit's queue."""

    journey = "officer"

    def walk(self):
        run = context()
        unit = run.officer_unit()
        self.log_in(f"canbo-{unit}")
        try:
            queue = self.step("GET", "/api/officer/queue", name="/api/officer/queue", params={"limit": 50},
                              check=json_with("dossiers"))["dossiers"]
            if any(d["unit_code"] != unit for d in queue):
                raise StepFailed(f"the queue of {unit} holds other units' dossiers")
            movable = [d for d in queue if self.action_for(d)]
            random.shuffle(movable)  # officers of one unit should not all take the same dossier
            for dossier in movable[:round(run.volume.actions_per_officer_visit)]:
                self.think(1)
                self.act(dossier)
        finally:
            self.log_out()

    def action_for(self, dossier: dict) -> str | None:
        """The next move for a dossier in the queue, or None when it waits for someone else."""
        if dossier["status"] == 2:
            return "request-fee" if context().fee_of(dossier["procedure_code"]) > 0 else "process"
        return NEXT_ACTION.get(dossier["status"])

    def act(self, dossier: dict):
        action = self.action_for(dossier)

        def moved(response):
            if response.status_code == 409:
                return  # another officer moved it first: what happens in a busy office
            if response.json()["code"] != dossier["code"]:
                raise StepFailed(f"{action} on {dossier['code']} answered another dossier")
        self.step("POST", f"/api/officer/dossiers/{dossier['code']}/{action}",
                  name=f"/api/officer/dossiers/[code]/{action}", expect=(200, 409), json={"note": ""},
                  check=moved)


class OneStopSync(Visit):
    """A commune's one-stop host sending the province a desk dossier and its moves, on the
    province's sync listener with that host's own client certificate."""

    journey = "onestop_sync"

    def walk(self):
        run = context()
        sender = run.sender()
        unit, cert = sender.unit, (sender.cert_file, sender.key_file)
        now = datetime.now(timezone.utc)
        # Numbers 5000-9999 of the day: the hosts' own dossiers count up from 0001.
        code = f"{unit}-{now:%y%m%d}-{random.randint(5000, 9999):04d}"
        procedure = run.pick_procedure(tier="commune")
        # The province takes a message only from its unit's host, numbered in that unit's series.
        create = {"message_id": f"{unit}/{uuid.uuid4()}", "code": code, "unit_code": unit,
                  "procedure_code": procedure["code"], "applicant": {"sub": f"0380{random.randrange(10 ** 8):08d}",
                                                                     "name": "Người nộp tại quầy"},
                  "channel": 1, "status": 2, "level": procedure["level"], "fee_vnd": procedure["fee_vnd"],
                  "submitted_at": now.isoformat(), "due_at": (now + timedelta(days=5)).isoformat(),
                  "origin_unit": unit}
        self.send("DongBoHoSoMC", create, cert)
        for status in (4, 9, 10):
            self.send("CapNhatTienDoHoSoMC", {"message_id": f"{unit}/{uuid.uuid4()}", "code": code, "status": status,
                                             "actor": f"canbo-{unit}", "note": ""}, cert)

    def send(self, service: str, message: dict, cert: tuple[str, str]):
        """One sync message to the province's sync listener, with the host's client certificate."""
        def accepted(response):
            if response.json().get("accepted") != message["message_id"]:
                raise StepFailed(f"{service} did not accept message {message['message_id']}")
        self.step("POST", f"{context().target.sync_url}/{service}", name=f"/api/sync/{service}", json=message,
                  cert=cert, check=accepted)


USERS = (Catalogue, Applicant, StatusLookup, Officer, OneStopSync)
