"""The dossiers-and-sync exporter against a real PostgreSQL holding the reference portal's schema,
read as a role granted only the columns it counts (queries.grants)."""

import shutil
import socket
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import datetime, timedelta, timezone
from itertools import count
from pathlib import Path

import psycopg
import pytest

from loopback_portal.postgres import Cluster, bin_dir
from portalops_exporters.dossiers import NAME, ROLE, DossiersCollector, month_start
from portalops_exporters.dossiers.queries import grants
from portalops_exporters.exporter import Scraped

SCHEMA = Path(__file__).parents[2] / "portal" / "dichvucong" / "schema.sql"
COMMUNE, DISTRICT = "000.17.22.H56", "000.00.14.H56"
NOW = datetime.now(timezone.utc)
HOUR = timedelta(hours=1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def cluster():
    try:
        bin_dir()
    except RuntimeError:
        pytest.skip("PostgreSQL's server binaries are missing (apt-get install postgresql): the exporter's SQL "
                    "is checked against a real server only")
    directory = Path(tempfile.mkdtemp(prefix="portalops-dossiers-"))
    directory.chmod(0o755)  # as root, PostgreSQL runs as postgres below this directory
    cluster = Cluster(directory / "pg", free_port()).start()
    try:
        with psycopg.connect(cluster.create_database("dichvucong"), autocommit=True) as conn:
            conn.execute(SCHEMA.read_text())
            conn.execute(f'CREATE ROLE "{ROLE}" LOGIN')
            for statement in grants(ROLE, "dichvucong"):
                conn.execute(statement)
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def db(cluster):
    """The portal's database as its owner, emptied before each test."""
    with psycopg.connect(cluster.url("dichvucong"), autocommit=True) as conn:
        conn.execute("TRUNCATE dossiers, outbox, payments RESTART IDENTITY CASCADE")
        yield conn


@pytest.fixture
def dsn(cluster):
    """Where the exporter connects: the cluster's socket, as its read-only role."""
    return f"host={cluster.directory} port={cluster.port} dbname=dichvucong user={ROLE}"


NUMBERS = count(1)


def dossier(db, unit=COMMUNE, status=4, channel=2, level=4, fee=0, submitted=NOW, due=NOW + 72 * HOUR) -> str:
    """Insert a dossier; return its code."""
    code = f"{unit}-{submitted:%y%m%d}-{next(NUMBERS):04d}"
    db.execute("INSERT INTO dossiers (code, unit_code, procedure_code, applicant_sub, applicant_name, channel, status,"
               " level, fee_vnd, submitted_at, due_at, updated_at, origin_unit)"
               " VALUES (%s, %s, 'HT.c.001', '001090000001', 'Nguyễn Văn A', %s, %s, %s, %s, %s, %s, now(), %s)",
               (code, unit, channel, status, level, fee, submitted, due, unit))
    return code


def payment(db, code: str, status: str) -> None:
    db.execute("INSERT INTO payments (order_id, dossier_id, amount_vnd, status)"
               " SELECT id || '-' || %s, id, fee_vnd, %s FROM dossiers WHERE code = %s", (status, status, code))


def message(db, code: str, created=NOW, sent=False, attempts=0) -> None:
    db.execute("INSERT INTO outbox (kind, dossier_code, payload, created_at, sent_at, attempts)"
               " VALUES ('CapNhatTienDoHoSoMC', %s, '{}', %s, %s, %s)",
               (code, created, NOW if sent else None, attempts))


def scrape(dsn, **options) -> dict:
    """{(sample name, labels in the family's order): value} of one scrape."""
    return {(s.name, tuple(s.labels.items())): s.value
            for family in DossiersCollector(dsn=dsn, **options).collect() for s in family.samples}


def of(found: dict, name: str) -> dict:
    """One family's samples, keyed by their label values."""
    return {tuple(v for _, v in labels): value for (sample, labels), value in found.items() if sample == name}


def test_dossiers_are_counted_by_unit_status_channel_and_level(db, dsn):
    for _ in range(3):
        dossier(db, COMMUNE, status=1, channel=2, level=4)
    dossier(db, COMMUNE, status=2, channel=1, level=3)
    dossier(db, DISTRICT, status=10, channel=3, level=3)
    # unit_code, status, channel, level
    assert of(scrape(dsn), "portalops_dossiers") == {(COMMUNE, "1", "2", "4"): 3, (COMMUNE, "2", "1", "3"): 1,
                                                     (DISTRICT, "10", "3", "3"): 1}


def test_overdue_counts_unfinished_dossiers_past_their_appointment_only(db, dsn):
    dossier(db, COMMUNE, status=4, due=NOW - HOUR)  # processing, late
    dossier(db, COMMUNE, status=5, due=NOW - HOUR)  # supplement requested, late
    dossier(db, COMMUNE, status=9, due=NOW - HOUR)  # result ready: finished
    dossier(db, COMMUNE, status=3, due=NOW - HOUR)  # rejected: finished
    dossier(db, COMMUNE, status=4, due=NOW + HOUR)  # not due yet
    dossier(db, DISTRICT, status=2)
    assert of(scrape(dsn), "portalops_dossiers_overdue") == {(COMMUNE,): 2, (DISTRICT,): 0}


def test_which_statuses_count_as_finished_is_an_option(db, dsn):
    dossier(db, COMMUNE, status=3, due=NOW - HOUR)  # rejected, appointment passed
    assert of(scrape(dsn, finished_statuses=[9, 10]), "portalops_dossiers_overdue") == {(COMMUNE,): 1}


def test_the_sync_backlog_is_per_unit_with_its_oldest_message_and_destination(db, dsn):
    late, fresh, done = dossier(db, COMMUNE), dossier(db, COMMUNE), dossier(db, DISTRICT)
    message(db, late, created=NOW - HOUR, attempts=3)
    message(db, fresh)
    message(db, late, sent=True, created=NOW - 5 * HOUR)
    message(db, done, sent=True)
    found = scrape(dsn, sync_destination="province")
    assert of(found, "portalops_dossiers_sync_pending") == {(COMMUNE, "province"): 2, (DISTRICT, "province"): 0}
    assert of(found, "portalops_dossiers_sync_retrying") == {(COMMUNE, "province"): 1, (DISTRICT, "province"): 0}
    oldest = of(found, "portalops_dossiers_sync_oldest_pending_age_seconds")
    assert oldest[(COMMUNE, "province")] == pytest.approx(3600 + (time.time() - NOW.timestamp()), abs=30)
    assert oldest[(DISTRICT, "province")] == 0


def test_online_filing_share_counts_this_month_s_dossiers_against_the_target(db, dsn):
    last_month = month_start(NOW) - 24 * HOUR
    for channel in (2, 2, 2, 1):
        dossier(db, COMMUNE, channel=channel)
    for _ in range(5):
        dossier(db, COMMUNE, channel=1, submitted=last_month)
    dossier(db, DISTRICT, channel=2, submitted=last_month)
    found = scrape(dsn, unit_targets={DISTRICT: {"online_filing": 0.6}})
    assert of(found, "portalops_dossiers_month_filed") == {(COMMUNE,): 4, (DISTRICT,): 0}
    assert of(found, "portalops_dossiers_online_filing_ratio") == {(COMMUNE,): 0.75}  # none filed: no share
    assert of(found, "portalops_dossiers_online_filing_target_ratio") == {(COMMUNE,): 0.8, (DISTRICT,): 0.6}


def test_online_payment_share_counts_fees_confirmed_by_the_payment_platform(db, dsn):
    for status in ("paid", "paid", "failed"):
        payment(db, dossier(db, COMMUNE, status=4, fee=50_000), status)
    dossier(db, COMMUNE, status=2, fee=50_000)  # fee not asked yet: unpaid
    dossier(db, COMMUNE, status=4, fee=0)  # free: not fee-bearing
    found = scrape(dsn, online_payment_target=0.9)
    assert of(found, "portalops_dossiers_month_fee_bearing") == {(COMMUNE,): 4}
    assert of(found, "portalops_dossiers_online_payment_ratio") == {(COMMUNE,): 0.5}
    assert of(found, "portalops_dossiers_online_payment_target_ratio") == {(COMMUNE,): 0.9}


def test_unit_codes_outside_the_national_format_are_summed_as_other(db, dsn):
    dossier(db, "UBND xã Nga Sơn", status=4, due=NOW - HOUR)
    dossier(db, "commune 17", status=4, due=NOW - HOUR)
    assert of(scrape(dsn), "portalops_dossiers_overdue") == {("other",): 2}


def test_a_vendor_s_own_sql_replaces_a_query(db, dsn):
    vendor = ("SELECT '000.00.14.H56' AS unit_code, 7 AS pending, 1 AS retrying, 60.0 AS oldest_seconds"
              " WHERE %(month_start)s IS NOT NULL")
    found = scrape(dsn, queries={"sync": vendor})
    assert of(found, "portalops_dossiers_sync_pending") == {(DISTRICT, "national"): 7}
    with pytest.raises(ValueError):
        DossiersCollector(dsn=dsn, queries={"sync_backlog": vendor})


def test_the_exporter_s_role_cannot_read_citizens_data(db, dsn):
    message(db, dossier(db, COMMUNE))
    with psycopg.connect(dsn) as conn:
        for query in ("SELECT applicant_name FROM dossiers", "SELECT form FROM dossiers",
                      "SELECT payload FROM outbox", "SELECT transaction_id FROM payments",
                      "SELECT name FROM sessions"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(query)
            conn.rollback()


def up_and_seconds(collector) -> tuple[float, float]:
    started = time.monotonic()
    found = {s.name: s.value for family in Scraped(NAME, collector).collect() for s in family.samples}
    return found["portalops_dossiers_up"], time.monotonic() - started


def test_the_exporter_is_up_when_the_database_answers(db, dsn):
    assert up_and_seconds(DossiersCollector(dsn=dsn))[0] == 1


def test_a_database_that_is_down_gives_up_0_at_once(tmp_path):
    up, seconds = up_and_seconds(DossiersCollector(dsn=f"host={tmp_path} dbname=dichvucong user={ROLE}"))
    assert up == 0 and seconds < 1


def scrape_in_time(collector, seconds: float, release) -> tuple[float, float]:
    """``up_and_seconds`` in a thread: a scrape still hanging after ``seconds`` fails the test
    (instead of hanging the suite), then ``release`` frees it."""
    with ThreadPoolExecutor(1) as pool:
        scrape = pool.submit(up_and_seconds, collector)
        try:
            return scrape.result(timeout=seconds)
        except FutureTimeout:
            pytest.fail(f"the scrape still hangs after {seconds} s")
        finally:
            release()


def test_a_database_that_never_answers_gives_up_0_within_the_connect_timeout():
    silent = socket.create_server(("127.0.0.1", 0))  # the kernel accepts; nobody speaks
    dsn = f"host=127.0.0.1 port={silent.getsockname()[1]} dbname=dichvucong user={ROLE}"
    up, seconds = scrape_in_time(DossiersCollector(dsn=dsn, connect_timeout_seconds=2), 5, silent.close)
    assert up == 0 and 1.5 < seconds < 5


def test_a_query_stuck_behind_a_lock_is_cancelled_by_the_statement_timeout(cluster, db, dsn):
    with psycopg.connect(cluster.url("dichvucong")) as migration:
        migration.execute("LOCK TABLE dossiers IN ACCESS EXCLUSIVE MODE")
        up, seconds = scrape_in_time(DossiersCollector(dsn=dsn, statement_timeout_seconds=0.5), 5,
                                     migration.rollback)
    assert up == 0 and seconds < 3


def test_the_month_starts_at_midnight_in_vietnam():
    # 18:00 UTC on 30 November is already 1 December in Thanh Hóa.
    assert month_start(datetime(2026, 11, 30, 18, 0, tzinfo=timezone.utc)) == datetime(
        2026, 12, 1, tzinfo=timezone(timedelta(hours=7)))
    assert month_start(datetime(2026, 11, 30, 16, 59, tzinfo=timezone.utc)) == datetime(
        2026, 11, 1, tzinfo=timezone(timedelta(hours=7)))
