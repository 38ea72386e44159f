"""The callbacks and sync services take JSON objects only: any other body is a 400 that
says so, never a 500."""

import httpx
import pytest

BODY_ENDPOINTS = ("/api/payments/confirm", "/api/sync/DongBoHoSoMC", "/api/sync/CapNhatTienDoHoSoMC")
NOT_OBJECTS = {
    "not JSON": b"order_id=1&status=success",
    "empty": b"",
    "not UTF-8": b"\xff\xfe{}",
    "a list": b'[{"order_id": "1"}]',
    "a string": b'"paid"',
    "null": b"null",
    "nested past the parser's depth": b"[" * 100_000,
}


@pytest.mark.parametrize("body", NOT_OBJECTS.values(), ids=NOT_OBJECTS.keys())
@pytest.mark.parametrize("path", BODY_ENDPOINTS)
def test_a_body_that_is_not_a_json_object_is_refused_with_400(stack, path, body):
    token = stack.secret("sync_inbound_token").read_text()
    response = httpx.post(f"{stack.province.url}{path}", content=body,
                          headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    assert response.status_code == 400
    assert response.json() == {"error": "the body must be a JSON object"}
