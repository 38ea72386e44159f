"""Escrow of the controller's secrets: one encrypted archive for offline custodians, and its
restore onto a second operator's controller.

The deploy's generated secrets (deploy/secrets.py: the backup repositories' passphrases, every
database password and token) and its CA (deploy/tls.py: the CA key, the issued host
certificates, the revocation list and the ``revoked`` list) live on one controller. Without
them the backups cannot be read and the province cannot be deployed, so :func:`export_archive`
writes both directories as one tar (with a manifest: what, when, from which host, a SHA-256 per
file) encrypted to the custodians' public keys, and :func:`import_archive` brings them back.

Why age (Debian package ``age``) and not GnuPG: age's recipients mode encrypts to public keys
given on the command line (``age1...``, one per custodian), so the export needs no passphrase
prompt, no keyring on the controller (``~/.gnupg``, key import, trust settings) and nothing on
the controller that could decrypt the archive; any one custodian's identity file decrypts it.
Its payload is authenticated chunk by chunk (ChaCha20-Poly1305), so a corrupt, truncated or
wrongly keyed archive fails to decrypt instead of yielding garbage.

No plaintext touches the disk outside the two directories: the export streams the tar into
age's standard input and age writes the ciphertext straight into the 0600 destination; the
import keeps age's output in memory (the directories hold kilobytes), checks every file against
the manifest, and only then writes anything.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import os
import shutil
import socket
import subprocess
import tarfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from deploy.secrets import secrets_dir
from deploy.tls import default_ca_dir

FORMAT = "portalops-escrow 1"
MANIFEST = "manifest.json"
AGE = "age"  # the program and its Debian package
# Each directory by its name in the archive: what it holds, and what an operator calls it.
WHAT = {"secrets": "the deploy's generated secrets, deploy/secrets.py",
        "ca": "the deploy's CA key, certificate, issued host certificates and revocation list, deploy/tls.py"}
LABEL = {"secrets": "secrets", "ca": "CA"}
# deploy/tls.py writes certificates and the revocation list readable by all (they are public)
# and keys owner-only; every secret is owner-only.
PUBLIC_IN_CA = (".pem", ".crl")
# The names deploy/tls.py gives the CA's certificate and its issued certificates' folder.
CA_CERTIFICATE, ISSUED = "ca.pem", "issued"


class EscrowError(Exception):
    """An escrow that cannot be made or restored; the message names the problem."""


@dataclass(frozen=True)
class Stores:
    """The two directories the escrow carries, each by its name in the archive."""

    secrets: Path
    ca: Path

    @classmethod
    def of(cls, secrets: str | Path | None = None, ca: str | Path | None = None) -> Stores:
        """The directories given, else the deploy's own (``secrets_dir()``, ``default_ca_dir()``)."""
        return cls(secrets_dir(str(secrets) if secrets else None), Path(ca) if ca else default_ca_dir())

    def by_name(self) -> dict[str, Path]:
        """{"secrets": directory, "ca": directory}."""
        return {"secrets": self.secrets, "ca": self.ca}


@dataclass(frozen=True)
class Restored:
    """One file an import wrote or found already in place: ``restored``, ``replaced`` or ``unchanged``."""

    state: str
    path: Path


def _age() -> str:
    found = shutil.which(AGE)
    if not found:
        raise EscrowError(f"`{AGE}` is not installed: apt-get install {AGE} (Debian package {AGE})")
    return found


def _age_says(stderr: bytes) -> str:
    """age's error message, without its request to report unhelpful ones."""
    return " ".join(line.strip() for line in stderr.decode(errors="replace").splitlines()
                    if line.strip() and not line.startswith("age: report"))


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _regular_files(name: str, directory: Path) -> list[Path]:
    if not directory.is_dir():
        raise EscrowError(f"the {LABEL[name]} directory {directory} does not exist ({WHAT[name]}; "
                          f"--{name}-dir names another)")
    files = []
    for path in sorted(directory.rglob("*")):
        if path.is_symlink() or not (path.is_dir() or path.is_file()):
            raise EscrowError(f"{path} is not a regular file: escrow carries regular files only")
        if path.is_file():
            files.append(path)
    if not files:
        raise EscrowError(f"the {LABEL[name]} directory {directory} is empty: nothing to escrow ({WHAT[name]}; "
                          f"--{name}-dir names another)")
    return files


def _contents(stores: Stores) -> dict[str, tuple[bytes, float]]:
    """{archive name: (bytes, mtime)} of every file of both directories, each read once, so
    that the manifest's digest is of the very bytes archived."""
    contents = {}
    for name, directory in stores.by_name().items():
        for path in _regular_files(name, directory):
            contents[f"{name}/{path.relative_to(directory).as_posix()}"] = (path.read_bytes(), path.stat().st_mtime)
    return contents


def _manifest(stores: Stores, contents: dict[str, tuple[bytes, float]]) -> dict:
    return {
        "format": FORMAT,
        "what": WHAT,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "host": socket.gethostname(),
        "directories": {name: str(directory) for name, directory in stores.by_name().items()},
        "files": {name: {"sha256": _sha256(data), "size": len(data)} for name, (data, _) in contents.items()},
    }


def _recipients(recipients: list[str], recipient_files: list[Path]) -> list[str]:
    """Every recipient given, the files' lines included (age's -R syntax: # comments)."""
    found = [recipient.strip() for recipient in recipients if recipient.strip()]
    for path in map(Path, recipient_files):
        if not path.is_file():
            raise EscrowError(f"recipients file {path} does not exist")
        listed = [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
        if not listed:
            raise EscrowError(f"recipients file {path} names no recipient (one age public key a line)")
        found += listed
    if not found:
        raise EscrowError("no recipient: give --recipient AGE_PUBLIC_KEY (one per custodian, repeatable) "
                          "or --recipients-file FILE")
    return found


@contextmanager
def _new_file(destination: Path, force: bool):
    """A file descriptor on ``destination``, mode 0600, created exclusively so nothing is
    overwritten; with ``force``, written beside it and renamed over it at the end, so an old
    archive survives a failed export. The file is removed if the block fails."""
    if destination.is_dir():
        raise EscrowError(f"cannot write {destination}: it is a directory")
    if not destination.parent.is_dir():
        raise EscrowError(f"cannot write {destination}: its directory {destination.parent} does not exist")
    if destination.exists() and not force:
        raise EscrowError(f"{destination} exists: not overwritten (--force replaces it)")
    path = destination.with_name(f".{destination.name}.{os.getpid()}.part") if force else destination
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as error:
        raise EscrowError(f"{destination} exists: not overwritten (--force replaces it)") from error
    except OSError as error:
        raise EscrowError(f"cannot write {destination}: {error.strerror}") from error
    try:
        os.fchmod(fd, 0o600)
        yield fd
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        path.unlink(missing_ok=True)
        raise
    os.close(fd)
    if force:
        os.replace(path, destination)


def _add(tar: tarfile.TarFile, name: str, data: bytes, mtime: float, mode: int = 0o600) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), mtime, mode
    tar.addfile(info, io.BytesIO(data))


def export_archive(destination: Path, recipients: list[str], recipient_files: list[Path] = (),
                   stores: Stores | None = None, force: bool = False) -> dict:
    """Write both directories of ``stores`` (default: the deploy's) as one archive encrypted
    with age to every recipient, at ``destination`` (mode 0600, never overwritten unless
    ``force``); return its manifest.

    + destination: the archive to write (e.g. on an offline USB key)
    + recipients: age public keys (``age1...``), one per custodian
    + recipient_files: files of age public keys, one a line (``age -R``)
    + stores: the secrets and CA directories (:meth:`Stores.of`)
    + force: replace an existing ``destination``

    Example: ``export_archive(Path("/media/usb/escrow.age"), ["age1ql3z7hjy..."])``
    """
    age = _age()
    keys = _recipients(list(recipients), list(recipient_files))
    stores = stores or Stores.of()
    contents = _contents(stores)
    manifest = {**_manifest(stores, contents), "recipients": keys}
    destination = Path(destination)
    inside = [d for d in stores.by_name().values() if d.resolve() in destination.resolve().parents]
    if inside:
        raise EscrowError(f"cannot write {destination} inside {inside[0]}, a directory the archive carries")
    with _new_file(destination, force) as fd:
        process = subprocess.Popen([age, "--encrypt", *(word for key in keys for word in ("-r", key))],
                                   stdin=subprocess.PIPE, stdout=fd, stderr=subprocess.PIPE)
        try:
            with tarfile.open(fileobj=process.stdin, mode="w|", format=tarfile.PAX_FORMAT) as tar:
                now = datetime.datetime.now().timestamp()
                _add(tar, MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode(), now, 0o644)
                for name, (data, mtime) in contents.items():
                    _add(tar, name, data, mtime)
            process.stdin.close()
        except BrokenPipeError:
            pass  # age stopped reading: it says why below
        finally:
            error = _age_says(process.stderr.read())
            returncode = process.wait()
        if returncode != 0:
            raise EscrowError(f"age could not encrypt to the recipients given: {error or f'exit {returncode}'}")
    return manifest


def _decrypt(source: Path, identity: Path) -> bytes:
    age = _age()
    if not source.is_file():
        raise EscrowError(f"no archive {source}")
    if not identity.is_file():
        raise EscrowError(f"no identity file {identity} (the custodian's age-keygen output)")
    # Standard input stays the terminal's, for an identity file encrypted with a passphrase.
    result = subprocess.run([age, "--decrypt", "-i", str(identity), str(source)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    if result.returncode != 0:
        error = _age_says(result.stderr)
        raise EscrowError(f"cannot decrypt {source} with {identity} (corrupt, or not made for this identity): "
                          f"{error or f'age exit {result.returncode}'}")
    return result.stdout


def _checked_members(plaintext: bytes) -> tuple[dict, dict[str, tuple[bytes, float]]]:
    """The manifest and {archive name: (bytes, mtime)}, every file checked against the manifest."""
    members: dict[str, tuple[bytes, float]] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(plaintext), mode="r:") as tar:
            for info in tar:
                name = PurePosixPath(info.name)
                if (not info.isfile() or name.is_absolute() or ".." in name.parts or info.name in members
                        or (info.name != MANIFEST and (len(name.parts) < 2 or name.parts[0] not in WHAT))):
                    raise EscrowError(f"not a portalops escrow archive: unexpected member {info.name!r}")
                members[info.name] = (tar.extractfile(info).read(), info.mtime)
    except tarfile.TarError as error:
        raise EscrowError(f"not a portalops escrow archive: {error}") from error
    try:
        manifest = json.loads(members.pop(MANIFEST)[0])
        listed = {name: entry["sha256"] for name, entry in manifest["files"].items()}
        known = manifest["format"] == FORMAT
    except (KeyError, ValueError, TypeError, AttributeError):
        known = False
    if not known:
        raise EscrowError(f"not a portalops escrow archive: no {FORMAT!r} manifest")
    problems = [f"{name}: in the manifest, not in the archive" for name in sorted(set(listed) - set(members))]
    problems += [f"{name}: in the archive, not in the manifest" for name in sorted(set(members) - set(listed))]
    problems += [f"{name}: SHA-256 differs from the manifest's" for name, (data, _) in sorted(members.items())
                 if name in listed and _sha256(data) != listed[name]]
    if problems:
        raise EscrowError("the archive does not match its manifest, nothing written:\n  " + "\n  ".join(problems))
    return manifest, members


def _target(stores: Stores, name: str) -> tuple[Path, Path, int]:
    """(directory, path, mode) where the archive's ``name`` goes."""
    store, *rest = PurePosixPath(name).parts
    directory = stores.by_name()[store]
    path = directory.joinpath(*rest)
    public = store == "ca" and path.suffix in PUBLIC_IN_CA
    return directory, path, 0o644 if public else 0o600


def _folders(directory: Path, path: Path) -> list[Path]:
    """The directory and each folder below it down to ``path``'s, outermost first."""
    return [directory, *(directory / folder for folder in path.relative_to(directory).parents[-2::-1])]


def _obstacle(directory: Path, path: Path) -> Path | None:
    """What stands where the restore needs a directory or a regular file (a file, a symlink
    below the directory), if anything; the directory itself may be a symlink to one."""
    for folder in _folders(directory, path):
        if (folder != directory and folder.is_symlink()) or (folder.exists() and not folder.is_dir()):
            return folder
    if path.is_symlink() or (path.exists() and not path.is_file()):
        return path
    return None


def _write(path: Path, data: bytes, mode: int) -> None:
    part = path.with_name(f".{path.name}.{os.getpid()}.part")
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        part.chmod(mode)
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)


def import_archive(source: Path, identity: Path, stores: Stores | None = None,
                   force: bool = False) -> tuple[dict, list[Restored]]:
    """Decrypt ``source`` with the custodian's ``identity`` and restore its directories into
    ``stores`` (default: this controller's); return the manifest and each file's fate.

    Nothing is written unless age decrypts the archive and every file matches the manifest,
    nor while an existing file differs from the archive's (listed; ``force`` replaces them).
    Directories end mode 0700, files 0600 (the CA's certificates and revocation list 0644,
    as deploy/tls.py writes them).

    + source: the archive :func:`export_archive` wrote
    + identity: an age identity file whose public key was one of the recipients
    + stores: the secrets and CA directories to restore into (:meth:`Stores.of`)
    + force: replace files that differ from the archive's

    Example: ``import_archive(Path("escrow.age"), Path("custodian.key"))``
    """
    manifest, members = _checked_members(_decrypt(Path(source), Path(identity)))
    stores = stores or Stores.of()
    plan, conflicts, blocked = [], [], []
    for name, (data, mtime) in members.items():
        directory, path, mode = _target(stores, name)
        obstacle = _obstacle(directory, path)
        if obstacle:
            blocked.append(str(obstacle))
            continue
        state = "restored"
        if path.is_file():
            state = "unchanged" if path.read_bytes() == data else "replaced"
            if state == "replaced":
                conflicts.append(str(path))
        plan.append((state, directory, path, mode, data, mtime))
    if blocked:
        raise EscrowError("something other than a directory or regular file stands where the archive's go, "
                          "nothing written (move it away first):\n  " + "\n  ".join(sorted(set(blocked))))
    if conflicts and not force:
        raise EscrowError(f"{len(conflicts)} existing files differ from the archive's, nothing written "
                          "(--force replaces them):\n  " + "\n  ".join(sorted(conflicts)))
    restored = []
    for state, directory, path, mode, data, mtime in plan:
        for folder in _folders(directory, path):
            folder.mkdir(parents=True, exist_ok=True)
            folder.chmod(0o700)
        if state != "unchanged":
            _write(path, data, mode)
            os.utime(path, (mtime, mtime))
        path.chmod(mode)
        restored.append(Restored(state, path))
    return manifest, restored


@dataclass(frozen=True)
class Holdings:
    """What a controller holds: its directories, how many secrets, and its CA."""

    stores: Stores
    secrets: int
    ca_fingerprint: str | None  # SHA-256 of the CA certificate, as openssl prints it
    ca_expires: datetime.datetime | None
    issued: int  # host certificates the CA issued


def holdings(stores: Stores | None = None) -> Holdings:
    """What this controller holds in ``stores`` (default: the deploy's); reads only, creates nothing."""
    stores = stores or Stores.of()
    secrets = [p for p in stores.secrets.iterdir() if p.is_file()] if stores.secrets.is_dir() else []
    certificate_file = stores.ca / CA_CERTIFICATE
    certificate = x509.load_pem_x509_certificate(certificate_file.read_bytes()) if certificate_file.is_file() else None
    return Holdings(
        stores=stores, secrets=len(secrets),
        ca_fingerprint=certificate.fingerprint(hashes.SHA256()).hex(":").upper() if certificate else None,
        ca_expires=certificate.not_valid_after_utc if certificate else None,
        issued=len(list((stores.ca / ISSUED).glob("*.pem"))))
