"""Certificates for the hosts (web, database, backup servers): the province's own, or a lab CA this module keeps.

The CA's private key never leaves the controller: it lives in ``tls_ca_dir``
(mode 0700, outside the work tree) and signs one certificate per host, whose
names are the host's name and address from the inventory. An issued
certificate is kept and reused until it nears its end or its names change, so a
second deploy uploads nothing new.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

CA_DAYS = 3650
HOST_DAYS = 365  # within the 366 days Mozilla's intermediate profile allows (sslyze checks it)
RENEW_DAYS = 30
# A host's certificate serves TLS (nginx, PostgreSQL, pgBackRest's server) and proves the host
# to the servers it calls (pgBackRest's client certificates).
USAGES = [x509.oid.ExtendedKeyUsageOID.SERVER_AUTH, x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]


def _private(path: Path, data: bytes) -> None:
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_bytes(data)


def _key_bytes(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def ensure_ca(directory: Path, name: str = "portalops lab CA") -> tuple[x509.Certificate, object]:
    """The CA certificate and key in ``directory``, created once."""
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    cert_path, key_path = directory / "ca.pem", directory / "ca.key"
    if cert_path.exists() and key_path.exists():
        return (x509.load_pem_x509_certificate(cert_path.read_bytes()),
                serialization.load_pem_private_key(key_path.read_bytes(), None))
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    _private(key_path, _key_bytes(key))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert, key


def _crl_urls(cert: x509.Certificate) -> list[str]:
    try:
        points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    except x509.ExtensionNotFound:
        return []
    return [str(name.value) for point in points for name in (point.full_name or [])]


def _usages(cert: x509.Certificate) -> set:
    try:
        return set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        return set()


def _names(cert: x509.Certificate) -> set[str]:
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {str(v) for v in sans.get_values_for_type(x509.DNSName)} | {
        str(v) for v in sans.get_values_for_type(x509.IPAddress)}


def host_certificate(directory: Path, host_name: str, address: str,
                     crl_url: str | None = None) -> tuple[str, str, str]:
    """(certificate chain PEM, key PEM, CA PEM) for a host, issued once and reused.

    ``crl_url``: where clients find the CA's revocation list (see :func:`revocation_list`).
    """
    ca_cert, ca_key = ensure_ca(directory)
    issued = directory / "issued"
    issued.mkdir(exist_ok=True)
    cert_path, key_path = issued / f"{host_name}.pem", issued / f"{host_name}.key"
    wanted = {host_name, address}
    now = datetime.datetime.now(datetime.timezone.utc)
    if cert_path.exists() and key_path.exists():
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
        if (cert.serial_number not in revoked_serials(directory) and _names(cert) == wanted
                and lifetime <= datetime.timedelta(days=HOST_DAYS, minutes=5) and _usages(cert) == set(USAGES) and _crl_urls(cert) == ([crl_url] if crl_url else [])
                and cert.not_valid_after_utc - now > datetime.timedelta(days=RENEW_DAYS)):
            return _chain(cert_path, ca_cert), key_path.read_text(), _pem(ca_cert)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host_name)]))
            .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=HOST_DAYS))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host_name),
                                                        x509.IPAddress(ipaddress.ip_address(address))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage(USAGES), critical=False))
    if crl_url:
        cert = cert.add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
            full_name=[x509.UniformResourceIdentifier(crl_url)], relative_name=None, reasons=None,
            crl_issuer=None)]), critical=False)
    cert = cert.sign(ca_key, hashes.SHA256())
    _private(key_path, _key_bytes(key))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return _chain(cert_path, ca_cert), key_path.read_text(), _pem(ca_cert)


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _chain(cert_path: Path, ca_cert: x509.Certificate) -> str:
    return cert_path.read_text() + _pem(ca_cert)


def default_ca_dir() -> Path:
    """Where the lab CA lives unless the data says otherwise (outside any work tree)."""
    return Path(os.environ.get("PORTALOPS_CA_DIR", Path.home() / ".local/share/portalops/ca"))


def ca_dir(data) -> Path:
    """The host data's ``tls_ca_dir``, else the default."""
    return Path(data.tls_ca_dir) if data.tls_ca_dir else default_ca_dir()


CRL_PATH = "/pki/portalops-ca.crl"  # where the web hosts serve the CA's revocation list, over HTTP
# The province's portals check one-stop hosts' sync certificates against this list (nginx's
# ssl_crl), and an expired list fails every check: it is signed for a year and signed again by
# any deploy within RENEW_DAYS of its end, so months without a deploy never stop the sync.
CRL_DAYS = 365


def revoked_serials(directory: Path) -> set[int]:
    """The serial numbers the CA in ``directory`` has revoked (its ``revoked`` file, hex, one a line)."""
    revoked_file = directory / "revoked"
    return {int(line, 16) for line in revoked_file.read_text().split()} if revoked_file.exists() else set()


def revoke(directory: Path, host_name: str) -> int:
    """Revoke the certificate the CA in ``directory`` issued to ``host_name``; its serial.

    The next deploy of the web hosts carries the new revocation list (a one-stop host's sync is
    then refused), and the next deploy of the host itself issues it a new certificate."""
    cert_path = directory / "issued" / f"{host_name}.pem"
    if not cert_path.exists():
        raise FileNotFoundError(f"no certificate issued to {host_name!r} in {directory / 'issued'}")
    serial = x509.load_pem_x509_certificate(cert_path.read_bytes()).serial_number
    if serial not in revoked_serials(directory):
        with open(directory / "revoked", "a") as revoked:
            revoked.write(f"{serial:x}\n")
    return serial


def revocation_list(directory: Path) -> bytes:
    """The CA's revocation list (DER), signed once and reused until RENEW_DAYS before it expires.

    Serial numbers listed in ``revoked`` (one per line, hex) in the CA directory are revoked.
    """
    ca_cert, ca_key = ensure_ca(directory)
    path = directory / "ca.crl"
    revoked = sorted(revoked_serials(directory))
    now = datetime.datetime.now(datetime.timezone.utc)
    if path.exists():
        crl = x509.load_der_x509_crl(path.read_bytes())
        if (sorted(r.serial_number for r in crl) == revoked
                and crl.next_update_utc - now > datetime.timedelta(days=RENEW_DAYS)):
            return path.read_bytes()
    builder = (x509.CertificateRevocationListBuilder().issuer_name(ca_cert.subject).last_update(now)
               .next_update(now + datetime.timedelta(days=CRL_DAYS)))
    for serial in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(now).build())
    der = builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
    path.write_bytes(der)
    return der


def crl_url(data) -> str | None:
    """Where the hosts' certificates say the CA's revocation list is: ``tls_crl_url``, else the
    first portal host (every web host serves it); None when the inventory has no web host."""
    from deploy.peers import addresses_of
    from inventory.roles import PROVINCE_PORTALS, WEB_HOSTS

    if data.tls_crl_url:
        return data.tls_crl_url
    web = addresses_of(PROVINCE_PORTALS) or addresses_of(WEB_HOSTS)
    return f"http://{web[0]}{CRL_PATH}" if web else None


def issue(data, host_name: str, address: str) -> tuple[str, str, str]:
    """The host's certificate from the deploy's CA (see :func:`host_certificate`), for a deploy."""
    return host_certificate(ca_dir(data), host_name, address, crl_url(data))
