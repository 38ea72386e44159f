"""Durable sync (commune -> province -> national), unique codes under concurrency,
and the operations endpoints. These tests kill and restart services, so they
have a stack of their own."""

import json
import re
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.portal.conftest import CITIZEN, client_for, login, metric, national, running_stack, submit, wait

COMMUNE = "000.17.22.H56"


@pytest.fixture(scope="module")
def own():
    with running_stack(workers=2) as stack:
        yield stack


def set_national_fault(stack, mode):
    assert httpx.post(f"{stack.standins_url}/national/_fault", json={"mode": mode}).status_code == 200


def test_parallel_submissions_on_two_instances_sharing_a_database_get_distinct_consecutive_codes(own):
    replica = own.add_replica(own.province)
    clients = [login(own.province, CITIZEN), login(replica, CITIZEN)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        responses = list(pool.map(lambda i: submit(clients[i % 2]), range(60)))
    assert [r.status_code for r in responses] == [201] * 60
    codes = [r.json()["code"] for r in responses]
    numbers = sorted(int(code.rsplit("-", 1)[1]) for code in codes)
    assert len(set(codes)) == 60 and numbers == list(range(numbers[0], numbers[0] + 60))
    replica.stop()
    own.portals.remove(replica)


def test_the_outbox_survives_a_crash_of_the_service_and_delivers_everything_once(own):
    set_national_fault(own, "down")
    citizen = login(own.province, CITIZEN)
    codes = [submit(citizen).json()["code"] for _ in range(5)]
    wait(lambda: metric(own.province, "dichvucong_outbox_pending") >= 5, message="a backlog")
    time.sleep(1.1)
    assert metric(own.province, "dichvucong_outbox_oldest_age_seconds") >= 1
    own.province.stop(signal.SIGKILL)  # the web workers and the sender die mid-retry
    own.province.start()
    set_national_fault(own, "none")
    wait(lambda: metric(own.province, "dichvucong_outbox_pending") == 0, message="the backlog to drain")
    for code in codes:
        assert [m["kind"] for m in national(own, code)] == ["DongBoHoSoMC"]


def test_a_one_stop_host_syncs_its_dossiers_up_to_the_province_and_on_to_national(own):
    commune = own.add_portal(COMMUNE, "onestop")
    citizen = login(commune, CITIZEN)
    created = submit(citizen, procedure="HT.c.002")
    assert created.status_code == 201
    code = created.json()["code"]
    assert code.startswith(f"{COMMUNE}-")
    officer = login(commune, f"canbo-{COMMUNE}")
    assert officer.post(f"/api/officer/dossiers/{code}/receive", json={"note": ""}).status_code == 200
    province = client_for(own.province)
    wait(lambda: province.get(f"/api/dossiers/{code}").json().get("status") == 2, message="the province copy")
    wait(lambda: [m["status"] for m in national(own, code)] == [1, 2], message="the national copy")
    assert metric(commune, "dichvucong_outbox_pending") == 0


def test_a_one_stop_host_files_only_for_its_own_unit(own):
    commune = next(p for p in own.portals if p.unit_code == COMMUNE)
    response = submit(login(commune, CITIZEN), unit_code="000.00.00.H56")
    assert response.status_code == 400 and COMMUNE in response.json()["error"]


def test_sync_with_a_wrong_token_is_refused(own):
    response = httpx.post(f"{own.province.url}/api/sync/DongBoHoSoMC", json={},
                          headers={"Authorization": "Bearer wrong"})
    assert response.status_code == 401


def test_a_repeated_sync_message_is_applied_once(own):
    token = own.secret("sync_inbound_token").read_text()
    citizen = login(own.province, CITIZEN)
    code = submit(citizen).json()["code"]
    message = {"message_id": f"{COMMUNE}/999999", "code": code, "status": 2, "actor": "x", "note": ""}
    for _ in range(2):
        response = httpx.post(f"{own.province.url}/api/sync/CapNhatTienDoHoSoMC", json=message,
                              headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
    events = citizen.get(f"/api/dossiers/{code}").json()["events"]
    assert [e["to_status"] for e in events] == [1, 2]


def test_metrics_label_routes_by_template_and_carry_no_citizen_data(own):
    citizen = login(own.province, CITIZEN)
    code = submit(citizen).json()["code"]
    citizen.get(f"/api/dossiers/{code}")
    text = httpx.get(f"{own.province.url}/metrics").text
    assert re.search(r'dichvucong_http_request_duration_seconds_count\{method="GET",'
                     r'route="/api/dossiers/\{code\}",status_class="2xx"\} [1-9]', text)
    assert 'dichvucong_dossiers{channel="2",status="1",unit_code="000.00.00.H56"}' in text
    assert CITIZEN not in text and code not in text and "127.0.0.1" not in text


def test_logs_are_json_lines_with_access_and_audit_and_no_form_contents(own):
    citizen = login(own.province, CITIZEN)
    code = submit(citizen).json()["code"]
    time.sleep(0.5)
    lines = [json.loads(line) for line in (own.directory / f"portal-{own.province.name}.log").read_text().splitlines()
             if line.startswith("{")]
    assert any(l["log"] == "audit" and l.get("dossier") == code for l in lines)
    assert any(l["log"] == "access" and l.get("route") == "/api/dossiers" for l in lines)
    assert not any("Nguyễn Văn A" in json.dumps(l, ensure_ascii=False) for l in lines)


def test_readiness_fails_while_the_database_is_down_and_recovers(own):
    own.cluster.stop()
    try:
        ready = httpx.get(f"{own.province.url}/readyz", timeout=30)
        assert ready.status_code == 503 and "database" in ready.json()["problems"][0]
        assert httpx.get(f"{own.province.url}/healthz").status_code == 200
        assert metric(own.province, "dichvucong_database_up") == 0
    finally:
        own.cluster.start()
    wait(lambda: httpx.get(f"{own.province.url}/readyz", timeout=30).status_code == 200, message="readiness")
