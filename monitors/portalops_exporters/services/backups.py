"""When each pgBackRest repository last took a good backup of each stanza.

The repositories are encrypted, so their ``backup.info`` says nothing without the
passphrase, and ``pgbackrest info`` would need the exporter to run as postgres with the
passphrase in reach and, for the copy, a TLS round trip to the backup host at every
scrape. Instead deploy/files/portalops-backup, which runs the nightly backups, writes
``STAMPS/repoN/STANZA`` holding the Unix time of each backup that succeeded, and only then.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

# Stanzas are host names from the inventory: bounded, and safe as label values.
STANZA = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
REPO = re.compile(r"^repo([0-9]{1,3})$")


def _read(stamp: Path) -> float | None:
    try:
        return float(stamp.read_text().strip())
    except (OSError, ValueError):
        return None


def last_successes(stamps: str, expected: dict[str, list[str]] | None = None
                   ) -> tuple[dict[tuple[str, str], float], str | None]:
    """``{(repo, stanza): Unix time of its last good backup}`` from the stamp directory, and
    what kept it from being read (None when nothing did).

    Every expected stanza is there: one without a readable stamp has 0 (no good backup
    known), so an alert on the age fires instead of the series being silently absent.
    """
    found: dict[tuple[str, str], float] = {}
    problem = None
    try:
        with os.scandir(stamps) as repos:
            for repo_dir in repos:
                repo = REPO.match(repo_dir.name)
                if not repo or not repo_dir.is_dir():
                    continue
                with os.scandir(repo_dir.path) as stamps_of_repo:
                    for stamp in stamps_of_repo:
                        if STANZA.match(stamp.name) and (when := _read(Path(stamp.path))) is not None:
                            found[(repo.group(1), stamp.name)] = when
    except FileNotFoundError:
        pass  # no backup has succeeded on this host yet
    except OSError as error:  # e.g. under /var/lib/pgbackrest (mode 750) without CAP_DAC_READ_SEARCH
        problem = f"backup stamps in {stamps} unreadable: {error}"
    for repo, stanzas in (expected or {}).items():
        for stanza in stanzas:
            found.setdefault((str(repo), stanza), 0.0)
    return found, problem
