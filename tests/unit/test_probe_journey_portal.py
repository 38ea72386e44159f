"""The journey prober walks the real reference portal (PostgreSQL, gunicorn workers, the SSO stand-in),
started on loopback by localstack: no lab, no root. Starting the stack takes most of this file's time."""

import glob
import shutil
import tempfile
from pathlib import Path
from urllib.parse import urlencode

import psycopg
import pytest
from psycopg.rows import dict_row

from tests.probe_servers import exporter_at, fetch, samples

pytestmark = pytest.mark.skipif(not glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                                reason="needs Debian's postgresql package (make setup)")

CITIZEN = "001099000077"
STEPS = ["catalogue_search", "login", "upload", "lookup", "readback", "withdraw", "logout"]


@pytest.fixture(scope="module")
def stack():
    from loopback_portal.stack import Stack

    directory = Path(tempfile.mkdtemp(prefix="probe-journey-"))
    directory.chmod(0o755)  # PostgreSQL runs as its own user below this directory when root runs the tests
    stack = Stack(directory, workers=1).start()
    try:
        yield stack
    finally:
        stack.stop()
        shutil.rmtree(directory, ignore_errors=True)


def journey(stack, sso_issuer: str) -> dict[str, float]:
    settings = {"citizen": CITIZEN, "sso_issuer": sso_issuer, "catalogue_query": "đăng ký khai sinh",
                "procedure_code": "HT.c.001", "attachment_bytes": 20000}
    with exporter_at({"modules": {"journey": {"prober": "journey", "timeout": "30s", "journey": settings}}}) as url:
        status, text = fetch(f"{url}/probe?{urlencode({'module': 'journey', 'target': stack.province.url})}")
    assert status == 200, text
    return samples(text)


def dossiers_of_the_test_citizen(stack) -> list[dict]:
    with psycopg.connect(stack.province.database_url, row_factory=dict_row) as conn:
        return conn.execute(
            "SELECT d.code, d.status, a.size_bytes, (SELECT count(*) FROM sessions WHERE sub = %s) AS sessions "
            "FROM dossiers d LEFT JOIN attachments a ON a.dossier_id = d.id WHERE d.applicant_sub = %s "
            "ORDER BY d.id", (CITIZEN, CITIZEN)).fetchall()


def test_the_journey_walks_the_real_portal_and_leaves_its_dossier_withdrawn_and_no_session(stack):
    found = journey(stack, f"{stack.standins_url}/sso")
    assert found["probe_success"] == 1
    assert {s: found[f'probe_journey_step_success{{step="{s}"}}'] for s in STEPS} == dict.fromkeys(STEPS, 1)
    [dossier] = dossiers_of_the_test_citizen(stack)
    assert dossier["code"].startswith("000.00.00.H56-")
    assert (dossier["status"], dossier["size_bytes"], dossier["sessions"]) == (7, 20000, 0)


def test_a_login_the_portal_sends_to_another_issuer_than_the_stand_in_is_not_followed(stack):
    before = dossiers_of_the_test_citizen(stack)
    found = journey(stack, "http://127.0.0.1:9/sso")
    assert found["probe_success"] == 0
    assert found['probe_journey_step_success{step="login"}'] == 0
    assert 'probe_journey_step_success{step="upload"}' not in found
    assert dossiers_of_the_test_citizen(stack) == before
