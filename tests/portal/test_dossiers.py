"""Dossier submission, attachments, status look-up, and every bad input refused cleanly."""

import hashlib
import re
import socket

from tests.portal.conftest import MAX_UPLOAD, OTHER_CITIZEN, PDF, client_for, login, submit

CODE = re.compile(r"^000\.00\.00\.H56-\d{6}-\d{4}$")
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 100


def upload_dir_files(stack):
    return sorted(p.name for p in (stack.directory / "uploads" / "000-00-00-H56").glob("*"))


def test_a_citizen_files_a_dossier_with_attachments_and_gets_a_code(citizen):
    response = submit(citizen, files=[("files", ("don.pdf", PDF, "application/pdf")),
                                      ("files", ("anh.png", PNG, "image/png"))])
    assert response.status_code == 201, response.text
    dossier = response.json()
    assert CODE.match(dossier["code"]) and dossier["status"] == 1 and not dossier["overdue"]
    assert [a["sha256"] for a in dossier["attachments"]] == [hashlib.sha256(PDF).hexdigest(),
                                                             hashlib.sha256(PNG).hexdigest()]


def test_an_attachment_reads_back_byte_for_byte(citizen):
    dossier = submit(citizen).json()
    attachment = dossier["attachments"][0]
    download = citizen.get(f"/api/dossiers/{dossier['code']}/attachments/{attachment['id']}")
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["content-type"] == "application/pdf"


def test_anyone_may_look_up_status_by_code_but_only_the_applicant_sees_details(stack, citizen):
    code = submit(citizen).json()["code"]
    public = client_for(stack.province).get(f"/api/dossiers/{code}").json()
    assert public["status"] == 1 and "applicant_name" not in public and "form" not in public
    mine = citizen.get(f"/api/dossiers/{code}").json()
    assert mine["form"] == {"ho_ten": "Nguyễn Văn A"} and len(mine["events"]) == 1
    assert code in [d["code"] for d in citizen.get("/api/my/dossiers").json()["dossiers"]]


def test_another_citizen_cannot_read_the_attachments(stack, citizen):
    dossier = submit(citizen).json()
    other = login(stack.province, OTHER_CITIZEN)
    response = other.get(f"/api/dossiers/{dossier['code']}/attachments/{dossier['attachments'][0]['id']}")
    assert response.status_code == 404


def test_the_status_page_is_html_with_the_appointment(stack, citizen):
    code = submit(citizen).json()["code"]
    page = client_for(stack.province).get(f"/dossiers/{code}")
    assert page.status_code == 200 and f"Hồ sơ {code}" in page.text and "Ngày hẹn trả" in page.text


def test_an_oversize_attachment_is_413_and_leaves_nothing(stack, citizen):
    before = upload_dir_files(stack)
    big = b"%PDF-" + b"0" * MAX_UPLOAD
    response = submit(citizen, files=[("files", ("big.pdf", big, "application/pdf"))])
    assert response.status_code == 413
    assert upload_dir_files(stack) == before


def test_a_request_larger_than_all_attachments_together_is_413_before_reading(stack, citizen):
    # Only the headers are sent: the portal must answer without waiting for 100 MB.
    cookie = "; ".join(f"{k}={v}" for k, v in citizen.cookies.items())
    with socket.create_connection(("127.0.0.1", stack.province.port), timeout=10) as conn:
        conn.sendall((f"POST /api/dossiers HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\n"
                      "Content-Type: multipart/form-data; boundary=x\r\n"
                      f"Content-Length: {100 * MAX_UPLOAD}\r\n\r\n").encode())
        assert conn.recv(4096).startswith(b"HTTP/1.1 413")


def test_a_type_not_accepted_is_415(citizen):
    response = submit(citizen, files=[("files", ("note.txt", b"hello", "text/plain"))])
    assert response.status_code == 415 and "text/plain" in response.json()["error"]


def test_content_that_does_not_match_its_declared_type_is_415(citizen):
    response = submit(citizen, files=[("files", ("fake.pdf", b"MZ\x90\x00 not a pdf", "application/pdf"))])
    assert response.status_code == 415 and "not application/pdf" in response.json()["error"]


def test_one_bad_file_among_good_ones_leaves_no_dossier_and_no_file(stack, citizen, db):
    before_files = upload_dir_files(stack)
    before = db.execute("SELECT count(*) AS n FROM dossiers").fetchone()["n"]
    response = submit(citizen, files=[("files", ("don.pdf", PDF, "application/pdf")),
                                      ("files", ("x.exe", b"MZ", "application/x-msdownload"))])
    assert response.status_code == 415
    assert db.execute("SELECT count(*) AS n FROM dossiers").fetchone()["n"] == before
    assert upload_dir_files(stack) == before_files


def test_an_unknown_procedure_is_404_and_its_files_are_removed(stack, citizen, db):
    before_files = upload_dir_files(stack)
    assert submit(citizen, procedure="XX.c.999").status_code == 404
    assert upload_dir_files(stack) == before_files
    assert db.execute("SELECT count(*) AS n FROM attachments a LEFT JOIN dossiers d ON d.id = a.dossier_id "
                      "WHERE d.id IS NULL").fetchone()["n"] == 0


def test_an_unknown_dossier_is_404(stack):
    client = client_for(stack.province)
    assert client.get("/api/dossiers/000.00.00.H56-200101-9999").status_code == 404
    assert client.get("/api/dossiers/not-a-code").status_code == 404


def test_path_traversal_on_downloads_is_refused(citizen):
    code = submit(citizen).json()["code"]
    for trick in ("..%2F..%2F..%2Fetc%2Fpasswd", "../../etc/passwd", "%2e%2e%2fschema.sql"):
        response = citizen.get(f"/api/dossiers/{code}/attachments/{trick}")
        assert response.status_code == 404 and "root:" not in response.text


def test_a_malformed_form_is_400_and_nothing_is_written(citizen, db):
    before = db.execute("SELECT count(*) AS n FROM dossiers").fetchone()["n"]
    assert submit(citizen, form="{not json").status_code == 400
    assert submit(citizen, form="[1, 2]").status_code == 400
    assert db.execute("SELECT count(*) AS n FROM dossiers").fetchone()["n"] == before


def test_injection_in_the_form_is_stored_as_text_and_shown_escaped(stack, citizen):
    code = submit(citizen, form='{"ho_ten": "<img src=x onerror=alert(1)>\'; DROP TABLE dossiers;--"}').json()["code"]
    assert citizen.get(f"/api/dossiers/{code}").json()["form"]["ho_ten"].startswith("<img")
    assert client_for(stack.province).get("/api/procedures").status_code == 200  # the tables are still there


def test_a_citizen_cannot_file_for_another_applicant_or_channel(citizen, db):
    code = submit(citizen, applicant_id="999999999999", channel="1").json()["code"]
    row = db.execute("SELECT applicant_sub, channel FROM dossiers WHERE code = %s", (code,)).fetchone()
    assert row == {"applicant_sub": "001090000001", "channel": 2}


def test_an_officer_records_a_desk_dossier_which_starts_received(officer):
    response = submit(officer, channel="1", applicant_id="038090001234", applicant_name="Lê Thị B")
    assert response.status_code == 201 and response.json()["status"] == 2
