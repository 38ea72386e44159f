"""Attachments: checked, hashed and stored on disk outside the web root.

A file is refused if it is larger than the limit (413) or if its declared type
is not allowed or its first bytes do not match that type (415). Files are
written and fsynced before the dossier's transaction commits; if the request
fails afterwards the files are removed, so a dossier never points at a missing
file and no file is left without a dossier.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from starlette.datastructures import UploadFile

from dichvucong.config import Config
from dichvucong.errors import NotFound, PayloadTooLarge, UnsupportedType

# What the first bytes of each allowed type look like.
SIGNATURES = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
}
CHUNK = 64 * 1024


@dataclass
class StoredFiles:
    """Files written for one request; ``discard`` removes them if the request fails."""

    directory: Path
    rows: list[dict] = field(default_factory=list)

    def discard(self) -> None:
        """Remove every file this request wrote."""
        for row in self.rows:
            (self.directory / row["storage_name"]).unlink(missing_ok=True)


def _content_type(upload: UploadFile) -> str:
    return (upload.content_type or "").split(";")[0].strip().lower()


async def store(uploads: list[UploadFile], config: Config) -> StoredFiles:
    """Check and write every upload; raise (having removed what was written) on the first bad one."""
    config.upload_dir.mkdir(parents=True, exist_ok=True)
    stored = StoredFiles(config.upload_dir)
    try:
        for upload in uploads:
            stored.rows.append(await _store_one(upload, config))
    except BaseException:
        stored.discard()
        raise
    return stored


async def _store_one(upload: UploadFile, config: Config) -> dict:
    kind = _content_type(upload)
    name = Path(upload.filename or "attachment").name[:200]
    if kind not in config.allowed_types or kind not in SIGNATURES:
        raise UnsupportedType(f"{name}: type {kind or 'unknown'!r} is not accepted; "
                              f"accepted: {', '.join(config.allowed_types)}")
    attachment_id = uuid.uuid4()
    target = config.upload_dir / attachment_id.hex
    digest, size = hashlib.sha256(), 0
    first = b""
    with open(target, "xb") as out:
        try:
            while chunk := await upload.read(CHUNK):
                if not first:
                    first = chunk[:16]
                    if not first.startswith(SIGNATURES[kind]):
                        raise UnsupportedType(f"{name}: the content is not {kind}")
                size += len(chunk)
                if size > config.max_upload_bytes:
                    raise PayloadTooLarge(f"{name}: larger than {config.max_upload_bytes} bytes")
                digest.update(chunk)
                out.write(chunk)
            if not size:
                raise UnsupportedType(f"{name}: the file is empty")
            out.flush()
            os.fsync(out.fileno())
        except BaseException:
            target.unlink(missing_ok=True)
            raise
    return {"id": attachment_id, "filename": name, "content_type": kind, "size_bytes": size,
            "sha256": digest.hexdigest(), "storage_name": attachment_id.hex}


def path_of(config: Config, storage_name: str) -> Path:
    """The file behind an attachment row; refuses any name that would leave the upload directory."""
    base = config.upload_dir.resolve()
    path = (base / storage_name).resolve()
    if path.parent != base or not path.is_file():
        raise NotFound("no such attachment")
    return path


def parse_id(text: str) -> uuid.UUID:
    """An attachment id from a URL, or NotFound for anything that is not a UUID."""
    try:
        return uuid.UUID(text)
    except ValueError:
        raise NotFound("no such attachment") from None
