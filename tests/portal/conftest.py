"""The portal's tests run against the real thing: PostgreSQL, gunicorn workers, the
outbox sender and the stand-ins, all started here on loopback."""

import contextlib
import re
import shutil
import tempfile
import time
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg.rows import dict_row

from loopback_portal.stack import Stack

CITIZEN = "001090000001"
OTHER_CITIZEN = "001090000002"
PROVINCE_OFFICER = "canbo-000.00.00.H56"
# Small enough to exceed cheaply in a test, large enough for real scans.
MAX_UPLOAD = 1024 * 1024
PDF = b"%PDF-1.4\n% a dossier attachment\n" + b"0" * 2000


def make_stack(workers: int = 2, portal_env: dict[str, str] | None = None, **options) -> Stack:
    """A started stack in a new directory; ``options`` are the Stack's own."""
    directory = Path(tempfile.mkdtemp(prefix="dichvucong-test-"))
    directory.chmod(0o755)  # PostgreSQL runs as its own user below this directory
    return Stack(directory, workers=workers, portal_env={"DVC_MAX_UPLOAD_BYTES": str(MAX_UPLOAD)} | (portal_env or {}),
                 **options).start()


@contextlib.contextmanager
def running_stack(workers: int, **options):
    """A started stack, stopped and removed afterwards."""
    stack = make_stack(workers, **options)
    try:
        yield stack
    finally:
        stack.stop()
        shutil.rmtree(stack.directory, ignore_errors=True)


@pytest.fixture(scope="session")
def stack():
    with running_stack(workers=3) as stack:
        yield stack


def client_for(portal) -> httpx.Client:
    return httpx.Client(base_url=portal.url, follow_redirects=True, timeout=30)


def login(portal, who: str) -> httpx.Client:
    """A browser-like client logged in as ``who`` through the SSO stand-in."""
    client = client_for(portal)
    response = client.get("/auth/login", params={"login_hint": who})
    assert response.status_code == 200, response.text
    assert client.get("/api/me").json()["sub"] == who
    return client


@pytest.fixture
def citizen(stack):
    client = login(stack.province, CITIZEN)
    yield client
    client.close()


@pytest.fixture
def officer(stack):
    client = login(stack.province, PROVINCE_OFFICER)
    yield client
    client.close()


@pytest.fixture
def db(stack):
    with psycopg.connect(stack.province.database_url, row_factory=dict_row, autocommit=True) as conn:
        yield conn


def submit(client, procedure="HT.c.001", files=None, **fields) -> httpx.Response:
    files = files if files is not None else [("files", ("don.pdf", PDF, "application/pdf"))]
    data = {"procedure_code": procedure, "form": '{"ho_ten": "Nguyễn Văn A"}', **fields}
    return client.post("/api/dossiers", data=data, files=files or None)


def national(stack, code: str) -> list[dict]:
    return httpx.get(f"{stack.standins_url}/national/dossiers/{code}").json()["messages"]


def metric(portal, sample: str) -> float:
    """A sample's value on the portal's /metrics (``name`` or ``name{label="value"}``); NaN if absent."""
    text = httpx.get(f"{portal.url}/metrics").text
    match = re.search(rf"^{re.escape(sample)} (\S+)$", text, re.M)
    return float(match.group(1)) if match else float("nan")


def wait(predicate, timeout=30, message="condition"):
    """Poll ``predicate`` until it holds; fail naming ``message`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {message}")
