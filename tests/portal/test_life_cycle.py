"""The officer's queue, the national status codes with only valid moves, and fees
paid through the gateway stand-in with signed callbacks."""

import time

import httpx

from dichvucong.checksum import CONFIRM_FIELDS, checksum
from tests.portal.conftest import CITIZEN, PROVINCE_OFFICER, client_for, login, national, submit


def act(officer, code, action, note=""):
    return officer.post(f"/api/officer/dossiers/{code}/{action}", json={"note": note})


def wait_for_national(stack, code, count, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = national(stack, code)
        if len(messages) >= count:
            return messages
        time.sleep(0.2)
    return national(stack, code)


def test_a_new_online_dossier_waits_in_the_officers_queue(citizen, officer):
    code = submit(citizen).json()["code"]
    queue = officer.get("/api/officer/queue", params={"status": [1], "limit": 200}).json()
    assert code in [d["code"] for d in queue["dossiers"]]


def test_the_whole_life_with_a_fee_paid_online_is_recorded_and_synced_in_order(stack, citizen, officer, db):
    code = submit(citizen, procedure="DN.p.001").json()["code"]  # level 4, fee 50,000
    for action in ("receive", "process", "request-fee"):
        assert act(officer, code, action).status_code == 200
    payment = citizen.post(f"/api/dossiers/{code}/payments")
    assert payment.status_code == 201 and payment.json()["amount_vnd"] == 50000
    paid = httpx.post(payment.json()["payment_url"]).json()
    assert paid["status"] == "success" and paid["callback_status"] == 200
    assert citizen.get(f"/api/dossiers/{code}").json()["status"] == 4
    assert act(officer, code, "result-ready").json()["status"] == 9
    assert act(officer, code, "return-result").json()["status"] == 10
    events = citizen.get(f"/api/dossiers/{code}").json()["events"]
    assert [(e["from_status"], e["to_status"]) for e in events] == [
        (None, 1), (1, 2), (2, 4), (4, 6), (6, 4), (4, 9), (9, 10)]
    assert [e["actor"] for e in events] == [CITIZEN] + [PROVINCE_OFFICER] * 3 + ["payment-gateway"] + \
        [PROVINCE_OFFICER] * 2
    messages = wait_for_national(stack, code, 7)
    assert [(m["kind"], m["status"]) for m in messages] == [("DongBoHoSoMC", 1)] + [
        ("CapNhatTienDoHoSoMC", s) for s in (2, 4, 6, 4, 9, 10)]


def test_an_invalid_move_is_409_and_changes_nothing(citizen, officer):
    code = submit(citizen).json()["code"]
    response = act(officer, code, "result-ready")
    assert response.status_code == 409 and "cannot become result_ready" in response.json()["error"]
    assert citizen.get(f"/api/dossiers/{code}").json()["status"] == 1


def test_a_finished_dossier_cannot_move_again(citizen, officer):
    code = submit(citizen).json()["code"]
    assert act(officer, code, "reject", "thiếu giấy tờ").status_code == 200
    assert act(officer, code, "receive").status_code == 409


def test_supplement_requested_then_sent_by_the_applicant(citizen, officer):
    code = submit(citizen).json()["code"]
    act(officer, code, "request-supplement", "bổ sung bản sao CCCD")
    response = citizen.post(f"/api/dossiers/{code}/supplement", data={"note": "đã bổ sung"},
                            files=[("files", ("cccd.pdf", b"%PDF-1.4 cccd", "application/pdf"))])
    assert response.status_code == 200 and response.json()["status"] == 2
    assert len(citizen.get(f"/api/dossiers/{code}").json()["attachments"]) == 2


def test_the_applicant_withdraws_but_nobody_else_can(stack, citizen):
    code = submit(citizen).json()["code"]
    other = login(stack.province, "001090000003")
    assert other.post(f"/api/dossiers/{code}/withdraw").status_code == 403
    assert citizen.post(f"/api/dossiers/{code}/withdraw").json()["status"] == 7


def test_citizens_and_anonymous_callers_cannot_use_the_officer_queue(stack, citizen):
    assert citizen.get("/api/officer/queue").status_code == 403
    assert client_for(stack.province).get("/api/officer/queue").status_code == 401


def test_an_officer_of_another_unit_is_refused(stack, citizen):
    code = submit(citizen).json()["code"]
    stranger = login(stack.province, "canbo-000.17.22.H56")
    assert act(stranger, code, "receive").status_code == 403


def test_a_forged_payment_callback_is_refused_and_recorded(stack, citizen, officer, db):
    code = submit(citizen, procedure="DN.p.001").json()["code"]
    for action in ("receive", "request-fee"):
        act(officer, code, action)
    order = citizen.post(f"/api/dossiers/{code}/payments").json()["order_id"]
    forged = {"merchant": "H56", "order_id": order, "amount": 50000, "status": "success", "transaction_id": "t1"}
    forged["checksum"] = checksum(forged, CONFIRM_FIELDS, "not-the-key")
    response = client_for(stack.province).post("/api/payments/confirm", json=forged)
    assert response.status_code == 403
    assert citizen.get(f"/api/dossiers/{code}").json()["status"] == 6
    event = db.execute("SELECT detail FROM security_events WHERE kind = 'payment_signature_invalid' "
                       "ORDER BY id DESC LIMIT 1").fetchone()
    assert event["detail"] == {"order_id": order}


def test_reconciliation_applies_a_payment_whose_callback_was_lost(stack, citizen, officer):
    code = submit(citizen, procedure="DN.p.001").json()["code"]
    for action in ("receive", "request-fee"):
        act(officer, code, action)
    order = citizen.post(f"/api/dossiers/{code}/payments").json()
    assert citizen.get(f"/api/payments/{order['order_id']}").json()["gateway_status"] == "pending"
    # The gateway settles the order but its callback never reaches the portal.
    paid = httpx.post(order["payment_url"], params={"deliver_callback": "false"}).json()
    assert paid["callback_status"] is None and citizen.get(f"/api/dossiers/{code}").json()["status"] == 6
    reconciled = citizen.get(f"/api/payments/{order['order_id']}").json()
    assert reconciled["status"] == "paid" and citizen.get(f"/api/dossiers/{code}").json()["status"] == 4


def test_paying_is_refused_while_no_fee_is_requested(citizen):
    code = submit(citizen).json()["code"]
    assert citizen.post(f"/api/dossiers/{code}/payments").status_code == 409
