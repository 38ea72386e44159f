"""Escrow of the controller's secrets and CA: one age-encrypted archive, restored byte for byte
on a second controller, or refused with nothing written. Real age, keys made by age-keygen."""

import hashlib
import io
import json
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from deploy.escrow import EscrowError, Stores, export_archive, holdings, import_archive
from deploy.secrets import secret
from deploy.tls import host_certificate, revocation_list
from portalops.cli import main

pytestmark = pytest.mark.skipif(not (shutil.which("age") and shutil.which("age-keygen")),
                                reason="age not installed (Debian package age; make setup installs it)")
CRL_URL = "http://198.18.0.10/pki/portalops-ca.crl"


def custodian(directory: Path, name: str) -> tuple[Path, str]:
    """(identity file, public key) of a new custodian, made by age-keygen."""
    identity = directory / f"{name}.key"
    subprocess.run(["age-keygen", "-o", str(identity)], check=True, capture_output=True)
    public = subprocess.run(["age-keygen", "-y", str(identity)], check=True, capture_output=True, text=True)
    return identity, public.stdout.strip()


def files_of(stores: Stores) -> dict[str, bytes]:
    return {f"{name}/{p.relative_to(d).as_posix()}": p.read_bytes()
            for name, d in stores.by_name().items() for p in sorted(d.rglob("*")) if p.is_file()}


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


@pytest.fixture
def controller(tmp_path) -> Stores:
    """A controller after a deploy: two secrets, a CA with a host certificate, its CRL, a revocation."""
    stores = Stores.of(tmp_path / "one" / "secrets", tmp_path / "one" / "ca")
    secret("postgres-dichvucong", stores.secrets)
    secret("pgbackrest-db-1", stores.secrets)
    host_certificate(stores.ca, "db-1", "198.18.0.11", CRL_URL)
    (stores.ca / "revoked").write_text("1a2b\n")
    revocation_list(stores.ca)
    return stores


@pytest.fixture
def second(tmp_path) -> Stores:
    """A second operator's controller, with nothing yet."""
    return Stores.of(tmp_path / "two" / "secrets", tmp_path / "two" / "ca")


@pytest.fixture
def alice(tmp_path):
    return custodian(tmp_path, "alice")


@pytest.fixture
def archive(tmp_path, controller, alice) -> Path:
    path = tmp_path / "escrow.age"
    export_archive(path, [alice[1]], stores=controller)
    return path


def test_an_archive_restores_both_directories_byte_for_byte_on_a_second_controller(archive, controller, second,
                                                                                    alice):
    manifest, restored = import_archive(archive, alice[0], second)
    assert files_of(second) == files_of(controller)
    assert {r.state for r in restored} == {"restored"} and len(restored) == len(files_of(controller))
    assert manifest["directories"] == {"secrets": str(controller.secrets), "ca": str(controller.ca)}


def test_the_restored_ca_is_the_one_tls_reuses(archive, controller, second, alice):
    import_archive(archive, alice[0], second)
    assert host_certificate(second.ca, "db-1", "198.18.0.11", CRL_URL) == host_certificate(
        controller.ca, "db-1", "198.18.0.11", CRL_URL)
    assert revocation_list(second.ca) == revocation_list(controller.ca)


def test_any_one_of_several_recipients_decrypts_it(tmp_path, controller, second, alice):
    bob = custodian(tmp_path, "bob")
    recipients_file = tmp_path / "custodians.txt"
    recipients_file.write_text(f"# bob, the province's IT head\n{bob[1]}\n")
    path = tmp_path / "escrow.age"
    manifest = export_archive(path, [alice[1]], [recipients_file], stores=controller)
    assert manifest["recipients"] == [alice[1], bob[1]]
    import_archive(path, bob[0], second)
    assert files_of(second) == files_of(controller)


def test_the_archive_is_encrypted_and_holds_the_manifest_and_the_two_directories_only(archive, controller, alice):
    assert b"PRIVATE KEY" not in archive.read_bytes()
    assert (controller.secrets / "postgres-dichvucong").read_bytes() not in archive.read_bytes()
    plain = subprocess.run(["age", "-d", "-i", str(alice[0]), str(archive)], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(plain)) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())
    assert names[0] == "manifest.json" and set(names[1:]) == set(files_of(controller))
    assert {"what", "created", "host"} <= set(manifest)
    assert set(manifest["files"]) == set(files_of(controller))
    assert all(manifest["files"][name]["sha256"] == hashlib.sha256(data).hexdigest()
               for name, data in files_of(controller).items())


def test_the_archive_is_0600_and_never_overwritten_without_force(tmp_path, archive, controller, alice):
    assert mode(archive) == 0o600
    before = archive.read_bytes()
    with pytest.raises(EscrowError, match="exists: not overwritten"):
        export_archive(archive, [alice[1]], stores=controller)
    assert archive.read_bytes() == before
    export_archive(archive, [alice[1]], stores=controller, force=True)
    assert archive.read_bytes() != before and mode(archive) == 0o600
    assert sorted(p.name for p in archive.parent.iterdir() if p.suffix in (".age", ".part")) == ["escrow.age"]


def test_restored_directories_are_0700_and_files_0600_but_certificates_as_tls_writes_them(archive, second, alice):
    import_archive(archive, alice[0], second)
    assert {mode(d) for d in (second.secrets, second.ca, second.ca / "issued")} == {0o700}
    assert {mode(p) for p in second.secrets.iterdir()} == {0o600}
    assert {p.name: mode(p) for p in second.ca.rglob("*") if p.is_file()} == {
        "ca.key": 0o600, "db-1.key": 0o600, "revoked": 0o600, "ca.pem": 0o644, "db-1.pem": 0o644, "ca.crl": 0o644}


def test_an_existing_different_file_is_refused_by_name_and_nothing_is_written(archive, second, alice):
    second.secrets.mkdir(parents=True)
    (second.secrets / "postgres-dichvucong").write_text("the second controller's own password")
    with pytest.raises(EscrowError, match="differ from the archive's, nothing written") as refused:
        import_archive(archive, alice[0], second)
    assert str(second.secrets / "postgres-dichvucong") in str(refused.value)
    assert [p.name for p in second.secrets.iterdir()] == ["postgres-dichvucong"] and not second.ca.exists()


def test_force_replaces_the_differing_files(archive, controller, second, alice):
    second.secrets.mkdir(parents=True)
    (second.secrets / "postgres-dichvucong").write_text("stale")
    _, restored = import_archive(archive, alice[0], second, force=True)
    assert files_of(second) == files_of(controller)
    assert [r.path.name for r in restored if r.state == "replaced"] == ["postgres-dichvucong"]


def test_importing_again_changes_nothing(archive, second, alice):
    import_archive(archive, alice[0], second)
    _, restored = import_archive(archive, alice[0], second)
    assert {r.state for r in restored} == {"unchanged"}


def test_a_corrupt_archive_is_refused_and_writes_nothing(tmp_path, archive, second, alice):
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    corrupt = tmp_path / "corrupt.age"
    corrupt.write_bytes(bytes(data))
    truncated = tmp_path / "truncated.age"
    truncated.write_bytes(archive.read_bytes()[:-100])
    for bad in (corrupt, truncated):
        with pytest.raises(EscrowError, match="cannot decrypt"):
            import_archive(bad, alice[0], second)
    assert not (tmp_path / "two").exists()


def test_an_archive_for_another_identity_is_refused_and_writes_nothing(tmp_path, archive, second):
    mallory, _ = custodian(tmp_path, "mallory")
    with pytest.raises(EscrowError, match="no identity matched"):
        import_archive(archive, mallory, second)
    assert not (tmp_path / "two").exists()


def age_encrypted_tar(tmp_path: Path, public_key: str, members: dict[str, bytes]) -> Path:
    """An archive made by hand: these members, tarred and encrypted with age."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    path = tmp_path / "forged.age"
    subprocess.run(["age", "-r", public_key, "-o", str(path)], input=buffer.getvalue(), check=True)
    return path


def test_a_file_that_does_not_match_the_manifest_is_refused_and_nothing_written(tmp_path, archive, second, alice):
    plain = subprocess.run(["age", "-d", "-i", str(alice[0]), str(archive)], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(plain)) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar}
    members["secrets/postgres-dichvucong"] = b"tampered"
    with pytest.raises(EscrowError, match="secrets/postgres-dichvucong: SHA-256 differs"):
        import_archive(age_encrypted_tar(tmp_path, alice[1], members), alice[0], second)
    del members["secrets/postgres-dichvucong"]
    with pytest.raises(EscrowError, match="in the manifest, not in the archive"):
        import_archive(age_encrypted_tar(tmp_path, alice[1], members), alice[0], second)
    assert not (tmp_path / "two").exists()


def test_a_member_outside_the_two_directories_is_refused(tmp_path, second, alice):
    forged = age_encrypted_tar(tmp_path, alice[1], {"manifest.json": b"{}", "secrets/../../../etc/x": b"x"})
    with pytest.raises(EscrowError, match="unexpected member"):
        import_archive(forged, alice[0], second)
    forged = age_encrypted_tar(tmp_path, alice[1], {"secrets/x": b"x"})
    with pytest.raises(EscrowError, match="no 'portalops-escrow 1' manifest"):
        import_archive(forged, alice[0], second)


def test_an_export_without_recipient_is_refused_and_writes_nothing(tmp_path, controller):
    with pytest.raises(EscrowError, match="no recipient: give --recipient"):
        export_archive(tmp_path / "escrow.age", [], stores=controller)
    empty = tmp_path / "custodians.txt"
    empty.write_text("# nobody yet\n")
    with pytest.raises(EscrowError, match="names no recipient"):
        export_archive(tmp_path / "escrow.age", [], [empty], stores=controller)
    assert not (tmp_path / "escrow.age").exists()


def test_a_bad_recipient_is_refused_by_age_and_leaves_no_file(tmp_path, controller):
    with pytest.raises(EscrowError, match="age could not encrypt.*notakey"):
        export_archive(tmp_path / "escrow.age", ["notakey"], stores=controller)
    assert list(tmp_path.glob("*escrow.age*")) == []


def test_a_missing_or_empty_source_directory_is_refused_by_name(tmp_path, controller, alice):
    missing = Stores(controller.secrets, tmp_path / "no-ca")
    with pytest.raises(EscrowError, match=f"the CA directory {tmp_path / 'no-ca'} does not exist"):
        export_archive(tmp_path / "escrow.age", [alice[1]], stores=missing)
    (tmp_path / "empty").mkdir()
    with pytest.raises(EscrowError, match=f"the secrets directory {tmp_path / 'empty'} is empty"):
        export_archive(tmp_path / "escrow.age", [alice[1]], stores=Stores(tmp_path / "empty", controller.ca))
    assert not (tmp_path / "escrow.age").exists()


def test_an_unwritable_destination_is_named(tmp_path, controller, alice):
    with pytest.raises(EscrowError, match="cannot write .*its directory .* does not exist"):
        export_archive(tmp_path / "no-such-dir" / "escrow.age", [alice[1]], stores=controller)
    with pytest.raises(EscrowError, match="cannot write .*: it is a directory"):
        export_archive(tmp_path, [alice[1]], stores=controller)
    with pytest.raises(EscrowError, match="inside .*, a directory the archive carries"):
        export_archive(controller.secrets / "escrow.age", [alice[1]], stores=controller)


def test_a_missing_age_names_its_debian_package(tmp_path, controller, monkeypatch):
    monkeypatch.setattr("deploy.escrow.shutil.which", lambda tool: None)
    with pytest.raises(EscrowError, match=r"`age` is not installed: apt-get install age \(Debian package age\)"):
        export_archive(tmp_path / "escrow.age", ["age1whatever"], stores=controller)


def test_holdings_count_the_secrets_and_name_the_ca(controller):
    held = holdings(controller)
    assert (held.secrets, held.issued) == (2, 1)
    assert len(held.ca_fingerprint.split(":")) == 32 and held.ca_expires is not None


def test_the_commands_take_the_deploys_directories_from_its_environment(tmp_path, controller, second, alice,
                                                                       monkeypatch):
    monkeypatch.setenv("PORTALOPS_SECRETS_DIR", str(controller.secrets))
    monkeypatch.setenv("PORTALOPS_CA_DIR", str(controller.ca))
    runner = CliRunner()
    archive = tmp_path / "escrow.age"
    result = runner.invoke(main, ["secrets", "export", "--to", str(archive), "--recipient", alice[1]])
    assert result.exit_code == 0, result.output
    assert "2 secrets" in result.output and "encrypted to 1 recipient" in result.output
    result = runner.invoke(main, ["secrets", "export", "--to", str(archive), "--recipient", alice[1]])
    assert result.exit_code == 1 and "exists: not overwritten (--force replaces it)" in result.output
    result = runner.invoke(main, ["secrets", "import", "--from", str(archive), "--identity", str(alice[0]),
                                  "--secrets-dir", str(second.secrets), "--ca-dir", str(second.ca)])
    assert result.exit_code == 0, result.output
    count = len(files_of(controller))
    assert f"{count} files, {count} restored" in result.output and str(second.ca / "ca.key") in result.output
    result = runner.invoke(main, ["secrets", "status"])
    assert result.exit_code == 0 and str(controller.secrets) in result.output
    assert holdings(controller).ca_fingerprint in result.output


def test_the_export_command_refuses_without_recipient(tmp_path, controller):
    result = CliRunner().invoke(main, ["secrets", "export", "--to", str(tmp_path / "escrow.age"),
                                       "--secrets-dir", str(controller.secrets), "--ca-dir", str(controller.ca)])
    assert result.exit_code == 1 and "Error: no recipient" in result.output
