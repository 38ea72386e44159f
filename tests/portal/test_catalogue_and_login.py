"""Citizens search the catalogue and log in through the SSO stand-in."""

import httpx

from tests.portal.conftest import CITIZEN, client_for, login


def test_search_finds_procedures_with_or_without_diacritics(stack):
    client = client_for(stack.province)
    with_marks = client.get("/api/procedures", params={"q": "đăng ký khai sinh"}).json()["procedures"]
    without = client.get("/api/procedures", params={"q": "dang ky khai sinh"}).json()["procedures"]
    assert with_marks == without and "Đăng ký khai sinh" in [p["name"] for p in with_marks]


def test_the_catalogue_has_hundreds_of_procedures_of_both_levels(stack):
    client = client_for(stack.province)
    counts = {level: len(client.get("/api/procedures", params={"level": level, "limit": 100, "offset": 0}
                                    ).json()["procedures"]) for level in (3, 4)}
    total = sum(len(client.get("/api/procedures", params={"limit": 100, "offset": o}).json()["procedures"])
                for o in range(0, 400, 100))
    assert total >= 200 and counts[3] > 0 and counts[4] > 0


def test_one_procedure_shows_level_fee_and_processing_days(stack):
    procedure = client_for(stack.province).get("/api/procedures/DN.p.001").json()
    assert procedure["name"] == "Đăng ký thành lập doanh nghiệp tư nhân"
    assert (procedure["level"], procedure["fee_vnd"], procedure["processing_days"]) == (4, 50000, 3)


def test_an_unknown_procedure_is_404(stack):
    assert client_for(stack.province).get("/api/procedures/XX.p.999").status_code == 404


def test_injection_in_search_is_harmless(stack):
    client = client_for(stack.province)
    sql = client.get("/api/procedures", params={"q": "' OR 1=1; DROP TABLE dossiers; --"})
    assert sql.status_code == 200 and sql.json()["procedures"] == []
    page = client.get("/", params={"q": "<script>alert(1)</script>"})
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_login_goes_through_the_sso_and_opens_an_http_only_session(stack):
    client = client_for(stack.province)
    first = client.get("/auth/login", params={"login_hint": CITIZEN}, follow_redirects=False)
    assert first.status_code == 302 and first.headers["location"].startswith(f"{stack.standins_url}/sso/authorize")
    back = client.get(first.headers["location"], follow_redirects=False)
    assert back.headers["location"].startswith(f"{stack.province.url}/auth/callback?code=")
    done = client.get(back.headers["location"], follow_redirects=False)
    assert "httponly" in done.headers["set-cookie"].lower()
    assert client.get("/api/me").json() == {"sub": CITIZEN, "name": "Công dân 0001", "roles": ["citizen"],
                                            "unit_code": ""}


def test_a_callback_with_a_forged_state_is_refused(stack):
    response = client_for(stack.province).get("/auth/callback", params={"code": "x", "state": "forged"})
    assert response.status_code == 400


def test_a_login_code_cannot_be_used_twice(stack):
    client = client_for(stack.province)
    to_sso = client.get("/auth/login", params={"login_hint": CITIZEN}, follow_redirects=False)
    callback = client.get(to_sso.headers["location"], follow_redirects=False).headers["location"]
    assert client.get(callback, follow_redirects=False).status_code == 302
    assert client_for(stack.province).get(callback).status_code == 400


def test_login_never_redirects_off_the_portal(stack):
    client = client_for(stack.province)
    response = client.get("/auth/login", params={"login_hint": CITIZEN, "next": "//evil.example/x"})
    assert str(response.url) == f"{stack.province.url}/"


def test_logout_ends_the_session_at_once(stack):
    client = login(stack.province, CITIZEN)
    assert client.post("/auth/logout").status_code == 200
    assert client.get("/api/me").status_code == 401


def test_an_expired_session_is_refused(stack, db):
    client = login(stack.province, CITIZEN)
    db.execute("UPDATE sessions SET expires_at = now() - interval '1 second' WHERE sub = %s", (CITIZEN,))
    assert client.get("/api/me").status_code == 401


def test_the_sso_refuses_a_user_it_does_not_know(stack):
    response = client_for(stack.province).get("/auth/login", params={"login_hint": "nobody"})
    assert response.status_code == 404


def test_the_portal_never_calls_a_real_national_service(stack):
    for url in (stack.province.env()["DVC_SSO_ISSUER"], stack.province.env()["DVC_PAYMENT_URL"],
                stack.province.env()["DVC_SYNC_URL"]):
        assert httpx.URL(url).host == "127.0.0.1"
