"""Each unit its own credentials. The province takes sync from a one-stop host for that
host's unit only (nginx names the host from its client certificate, the senders file gives
its unit); each portal is a payment merchant with a key of its own at the gateway; and a
flood of refusals is counted in full but written in a bounded number of rows.

These tests have a stack of their own, with the province as deployed: a senders file and no
shared sync token, one worker (the bound on security events is per process).
"""

import itertools
import json
from datetime import datetime, timedelta, timezone

import httpx
import psycopg
import pytest
from psycopg.rows import dict_row

from dichvucong.checksum import CONFIRM_FIELDS, INIT_FIELDS, checksum
from dichvucong.config import PROVINCE_UNIT_CODE
from dichvucong.outbox import dossier_payload, progress_payload
from dichvucong.refusals import KINDS, SUPPRESSED
from dichvucong.routes.sync import SENDER_HEADER
from loopback_portal.stack import merchant_secret
from tests.portal.conftest import CITIZEN, client_for, login, metric, running_stack, submit, wait
from tests.portal.sync_front import SyncFront
from tests.probe_servers import Ca

COMMUNE_A, COMMUNE_B = "000.17.22.H56", "000.17.25.H56"
HOST_A, HOST_B = "onestop-1722", "onestop-1725"  # inventory names: their certificates' common names
EVENTS_PER_MINUTE = 5
# Outbox row numbers for hand-made messages, far above those of commune A's own portal.
OUTBOX_ROWS = itertools.count(900_001)


@pytest.fixture(scope="module")
def separate():
    env = {"DVC_SECURITY_EVENTS_PER_MINUTE": str(EVENTS_PER_MINUTE), "DVC_SYNC_INBOUND_TOKEN_FILE": ""}
    with running_stack(workers=1, portal_env=env, merchant_units=(PROVINCE_UNIT_CODE, COMMUNE_A),
                       sync_senders={HOST_A: COMMUNE_A, HOST_B: COMMUNE_B}) as stack:
        yield stack


@pytest.fixture(scope="module")
def front(separate):
    """nginx's part: TLS with client certificates of the deploy's CA, in front of the province."""
    with SyncFront(Ca(separate.directory / "ca"), separate.province.url) as front:
        yield front


@pytest.fixture(scope="module")
def commune_a(separate, front):
    """Commune A's portal, syncing through the front with its own certificate and no token."""
    cert, key, _ = front.ca.issue(HOST_A)
    return separate.add_portal(COMMUNE_A, "onestop", env={
        "DVC_SYNC_URL": f"{front.url}/api/sync", "DVC_SYNC_TOKEN_FILE": "",
        "DVC_SYNC_CLIENT_CERT_FILE": str(cert), "DVC_SYNC_CLIENT_KEY_FILE": str(key),
        "SSL_CERT_FILE": str(front.ca.ca_file)})


@pytest.fixture
def db(separate):
    with psycopg.connect(separate.province.database_url, row_factory=dict_row, autocommit=True) as conn:
        yield conn


def filed(unit: str, **changes) -> dict:
    """A DongBoHoSoMC message from ``unit``'s host for a new dossier of ``unit``, then ``changes``."""
    number, at = next(OUTBOX_ROWS), datetime(2025, 1, 1, 9, tzinfo=timezone.utc)
    dossier = {"code": f"{unit}-250101-{number}", "unit_code": unit, "procedure_code": "HT.c.001", "level": 4,
               "channel": 2, "status": 1, "fee_vnd": 0, "submitted_at": at, "due_at": at + timedelta(days=1),
               "applicant_sub": CITIZEN, "applicant_name": "Công dân", "origin_unit": unit}
    return dossier_payload(dossier) | {"message_id": f"{unit}/{number}"} | changes


def moved(sender_unit: str, dossier: dict, status: int) -> dict:
    """A CapNhatTienDoHoSoMC message from ``sender_unit``'s host moving ``dossier`` to ``status``."""
    return progress_payload(dossier, status, "canbo", "") | {"message_id": f"{sender_unit}/{next(OUTBOX_ROWS)}"}


def sync(stack, kind: str, message: dict, sender: str | None = HOST_A, **headers) -> httpx.Response:
    """Post a sync message to the province as nginx would pass it on from ``sender``'s host."""
    sent_by = {SENDER_HEADER: sender} if sender is not None else {}
    return httpx.post(f"{stack.province.url}/api/sync/{kind}", json=message, headers=sent_by | headers)


def status_at_province(stack, code: str) -> int | None:
    return client_for(stack.province).get(f"/api/dossiers/{code}").json().get("status")


def last_event(db, kind: str) -> dict:
    return db.execute("SELECT detail FROM security_events WHERE kind = %s ORDER BY id DESC LIMIT 1",
                      (kind,)).fetchone()["detail"]


def refusals_of(portal, kind: str) -> float:
    return metric(portal, f'dichvucong_security_refusals_total{{kind="{kind}"}}')


def test_a_one_stop_host_files_and_moves_its_own_units_dossiers(separate):
    message = filed(COMMUNE_A)
    assert sync(separate, "DongBoHoSoMC", message).status_code == 200
    assert sync(separate, "CapNhatTienDoHoSoMC", moved(COMMUNE_A, message, 2)).status_code == 200
    assert status_at_province(separate, message["code"]) == 2


def test_a_one_stop_host_syncs_through_nginx_with_its_certificate_and_no_token(separate, front, commune_a):
    code = submit(login(commune_a, CITIZEN), procedure="HT.c.002").json()["code"]
    wait(lambda: status_at_province(separate, code) == 1, message="the province copy")
    assert set(front.seen) == {(HOST_A, None)}


@pytest.mark.parametrize("foreign", ["unit_code", "origin_unit", "code", "message_id"])
def test_a_one_stop_host_cannot_file_a_dossier_of_another_commune(separate, db, foreign):
    theirs = filed(COMMUNE_B)
    message = filed(COMMUNE_A, **{foreign: theirs[foreign]})
    before = refusals_of(separate.province, "sync_foreign_unit")
    response = sync(separate, "DongBoHoSoMC", message, sender=HOST_A)
    assert response.status_code == 403 and COMMUNE_A in response.json()["error"]
    assert status_at_province(separate, message["code"]) is None
    event = last_event(db, "sync_foreign_unit")
    assert event["sender"] == HOST_A and event["sender_unit"] == COMMUNE_A and event["dossier"] == message["code"]
    assert "Công dân" not in json.dumps(event, ensure_ascii=False) and CITIZEN not in json.dumps(event)
    assert refusals_of(separate.province, "sync_foreign_unit") == before + 1


def test_a_one_stop_host_cannot_move_a_dossier_of_another_commune(separate, db):
    theirs = filed(COMMUNE_B)
    assert sync(separate, "DongBoHoSoMC", theirs, sender=HOST_B).status_code == 200
    withdrawal = moved(COMMUNE_A, theirs, 7)
    assert sync(separate, "CapNhatTienDoHoSoMC", withdrawal, sender=HOST_A).status_code == 403
    assert status_at_province(separate, theirs["code"]) == 1
    assert last_event(db, "sync_foreign_unit") == {
        "sender": HOST_A, "sender_unit": COMMUNE_A, "unit_code": COMMUNE_B, "dossier": theirs["code"],
        "message_id": withdrawal["message_id"]}
    assert sync(separate, "CapNhatTienDoHoSoMC", moved(COMMUNE_B, theirs, 2), sender=HOST_B).status_code == 200


@pytest.mark.parametrize("sender", ["onestop-9999", "", None])
def test_a_sender_the_province_does_not_know_is_refused(separate, db, sender):
    before = refusals_of(separate.province, "sync_unknown_sender")
    response = sync(separate, "DongBoHoSoMC", filed(COMMUNE_A), sender=sender)
    assert response.status_code == 403
    assert last_event(db, "sync_unknown_sender") == {"sender": sender or ""}
    assert refusals_of(separate.province, "sync_unknown_sender") == before + 1


def test_with_both_a_senders_file_and_a_token_both_must_pass(separate):
    token = separate.secret("sync_inbound_token")
    both = separate.add_replica(separate.province, env={"DVC_SYNC_INBOUND_TOKEN_FILE": str(token)})
    try:
        def post(sender, bearer):
            return httpx.post(f"{both.url}/api/sync/DongBoHoSoMC", json=filed(COMMUNE_A),
                              headers={SENDER_HEADER: sender, "Authorization": f"Bearer {bearer}"})
        assert post(HOST_A, "wrong").status_code == 401
        assert post("onestop-9999", token.read_text()).status_code == 403
        assert post(HOST_A, token.read_text()).status_code == 200
    finally:
        both.stop()
        separate.portals.remove(both)


def test_every_refusal_kind_is_on_metrics_with_no_sender_or_citizen_data(separate):
    text = httpx.get(f"{separate.province.url}/metrics").text
    for kind in KINDS:
        assert f'dichvucong_security_refusals_total{{kind="{kind}"}}' in text
    assert HOST_A not in text and "onestop-9999" not in text and CITIZEN not in text


def fee_requested(portal, procedure: str) -> tuple[httpx.Client, dict]:
    """A citizen of ``portal`` with a dossier whose fee the unit's officer requested, and its order."""
    citizen = login(portal, CITIZEN)
    code = submit(citizen, procedure=procedure).json()["code"]
    officer = login(portal, f"canbo-{portal.unit_code}")
    for action in ("receive", "request-fee"):
        assert officer.post(f"/api/officer/dossiers/{code}/{action}", json={"note": ""}).status_code == 200
    order = citizen.post(f"/api/dossiers/{code}/payments")
    assert order.status_code == 201, order.text
    return citizen, order.json() | {"code": code}


@pytest.mark.parametrize("procedure, unit", [("DN.p.001", PROVINCE_UNIT_CODE), ("HT.c.008", COMMUNE_A)])
def test_each_merchant_takes_payments_with_its_own_key(separate, commune_a, procedure, unit):
    portal = next(p for p in separate.portals if p.unit_code == unit)
    citizen, order = fee_requested(portal, procedure)
    paid = httpx.post(order["payment_url"]).json()
    assert paid["status"] == "success" and paid["callback_status"] == 200
    assert citizen.get(f"/api/dossiers/{order['code']}").json()["status"] == 4
    assert citizen.get(f"/api/payments/{order['order_id']}").json()["status"] == "paid"  # the signed status answer


@pytest.mark.parametrize("merchant", [PROVINCE_UNIT_CODE, COMMUNE_A])
def test_a_confirmation_signed_with_another_merchants_key_is_refused(separate, commune_a, db, merchant):
    citizen, order = fee_requested(separate.province, "DN.p.001")
    forged = {"merchant": merchant, "order_id": order["order_id"], "amount": order["amount_vnd"],
              "status": "success", "transaction_id": "t-forged"}
    forged["checksum"] = checksum(forged, CONFIRM_FIELDS, separate.secret(merchant_secret(COMMUNE_A)).read_text())
    response = client_for(separate.province).post("/api/payments/confirm", json=forged)
    assert response.status_code == 403
    assert citizen.get(f"/api/dossiers/{order['code']}").json()["status"] == 6
    assert last_event(db, "payment_signature_invalid") == {"order_id": order["order_id"]}


def test_the_gateway_refuses_a_merchant_it_does_not_know(separate):
    message = {"merchant": "000.99.99.H56", "order_id": "1-ab", "amount": 1000, "return_url": "http://127.0.0.1/",
               "callback_url": "http://127.0.0.1/api/payments/confirm"}
    message["checksum"] = checksum(message, INIT_FIELDS, "any key")
    response = httpx.post(f"{separate.standins_url}/gateway/payments", json=message)
    assert response.status_code == 403 and "unknown merchant" in response.text


def security_lines(portal) -> list[dict]:
    log = portal.stack.directory / f"portal-{portal.name}.log"
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    return [line for line in lines if line["log"] == "security"]


def test_a_flood_of_forged_callbacks_is_counted_in_full_but_written_in_bounded_rows(separate, db):
    flood, kind = 40, "payment_signature_invalid"
    province = separate.province
    first_id = db.execute("SELECT coalesce(max(id), 0) AS id FROM security_events").fetchone()["id"]
    counted = refusals_of(province, kind)
    client = client_for(province)
    for n in range(flood):
        forged = {"merchant": PROVINCE_UNIT_CODE, "order_id": f"flood-{n}", "amount": 1, "status": "success",
                  "transaction_id": "t"}
        assert client.post("/api/payments/confirm", json=forged | {"checksum": "0" * 64}).status_code == 403
    assert refusals_of(province, kind) == counted + flood
    province.stop()  # a stopping worker reports what it suppressed in its last minute
    province.start()
    rows = db.execute("SELECT detail FROM security_events WHERE kind = %s AND id > %s", (kind, first_id)).fetchall()
    written = [row["detail"] for row in rows if row["detail"].get("order_id", "").startswith("flood-")]
    suppressed = sum(row["detail"].get("suppressed", 0) for row in rows)
    assert len(written) <= 2 * EVENTS_PER_MINUTE  # the flood may span the turn of a minute
    assert len(written) + suppressed == flood
    lines = [line for line in security_lines(province) if line.get("kind") == kind and (
        str(line.get("order_id", "")).startswith("flood-") or line["msg"] == SUPPRESSED)]
    assert [line["order_id"] for line in lines if line["msg"] == KINDS[kind]] == [d["order_id"] for d in written]
    assert sum(line.get("suppressed", 0) for line in lines) == suppressed
