"""The deploy's CA: host certificates for server and client use, reused, with the CRL's address;
and the revocation list."""

from cryptography import x509

from deploy.tls import host_certificate, revocation_list

URL = "http://198.18.0.10/pki/portalops-ca.crl"


def test_a_host_certificate_serves_and_proves_the_host_and_names_the_crl(tmp_path):
    chain, key, ca = host_certificate(tmp_path, "db-1", "198.18.0.11", URL)
    cert = x509.load_pem_x509_certificate(chain.encode())
    usages = set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    assert usages == {x509.oid.ExtendedKeyUsageOID.SERVER_AUTH, x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH}
    points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert [n.value for p in points for n in p.full_name] == [URL]
    assert (tmp_path / "issued" / "db-1.key").stat().st_mode & 0o777 == 0o600


def test_a_certificate_is_reused_until_its_names_or_crl_change(tmp_path):
    first = host_certificate(tmp_path, "db-1", "198.18.0.11", URL)
    assert host_certificate(tmp_path, "db-1", "198.18.0.11", URL) == first
    assert host_certificate(tmp_path, "db-1", "198.18.0.11", "http://198.18.0.20/pki/x.crl") != first
    assert host_certificate(tmp_path, "db-1", "198.18.0.12", "http://198.18.0.20/pki/x.crl")[0] != first[0]


def test_the_revocation_list_is_signed_by_the_ca_reused_and_lists_revoked_serials(tmp_path):
    chain, _, ca_pem = host_certificate(tmp_path, "portal-1", "198.18.0.10", URL)
    ca = x509.load_pem_x509_certificate(ca_pem.encode())
    crl = x509.load_der_x509_crl(revocation_list(tmp_path))
    assert crl.is_signature_valid(ca.public_key()) and len(crl) == 0
    assert revocation_list(tmp_path) == revocation_list(tmp_path)
    serial = x509.load_pem_x509_certificate(chain.encode()).serial_number
    (tmp_path / "revoked").write_text(f"{serial:x}\n")
    crl = x509.load_der_x509_crl(revocation_list(tmp_path))
    assert crl.get_revoked_certificate_by_serial_number(serial) is not None


def test_a_certificate_lives_a_year_at_most_and_a_longer_one_is_reissued(tmp_path, monkeypatch):
    import datetime

    import deploy.tls

    cert = x509.load_pem_x509_certificate(host_certificate(tmp_path, "db-1", "198.18.0.11", URL)[0].encode())
    assert cert.not_valid_after_utc - cert.not_valid_before_utc <= datetime.timedelta(days=366)  # Mozilla's limit
    monkeypatch.setattr(deploy.tls, "HOST_DAYS", 397)  # what an older deploy issued
    long_lived = host_certificate(tmp_path / "old", "db-1", "198.18.0.11", URL)
    monkeypatch.undo()
    again = host_certificate(tmp_path / "old", "db-1", "198.18.0.11", URL)
    assert again != long_lived
    assert host_certificate(tmp_path / "old", "db-1", "198.18.0.11", URL) == again


def test_a_revoked_host_is_listed_in_the_crl_and_gets_a_new_certificate_at_its_next_deploy(tmp_path):
    import pytest

    from deploy.tls import revoke

    chain = host_certificate(tmp_path, "xa-1", "198.18.2.1", URL)[0]
    serial = revoke(tmp_path, "xa-1")
    assert serial == x509.load_pem_x509_certificate(chain.encode()).serial_number
    assert revoke(tmp_path, "xa-1") == serial and (tmp_path / "revoked").read_text() == f"{serial:x}\n"
    assert x509.load_der_x509_crl(revocation_list(tmp_path)).get_revoked_certificate_by_serial_number(serial)
    assert host_certificate(tmp_path, "xa-1", "198.18.2.1", URL)[0] != chain
    with pytest.raises(FileNotFoundError, match="no certificate issued to 'xa-2'"):
        revoke(tmp_path, "xa-2")
