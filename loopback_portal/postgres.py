"""A private PostgreSQL cluster from Debian's binaries, in a directory of its own.

It listens on a Unix socket in its directory and on 127.0.0.1 at the given port,
trusts local connections (it is reachable from this machine only) and goes away
with ``stop``. As root it runs as the ``postgres`` user, since PostgreSQL refuses
to run as root.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path


def bin_dir() -> Path:
    """The newest installed PostgreSQL's bin directory."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: apt-get install postgresql (or run `make setup`)")
    return Path(found[-1]).parent


class Cluster:
    """A throw-away cluster: ``start()``, use ``url(database)``, ``stop()``."""

    def __init__(self, directory: Path, port: int):
        self.directory, self.port = Path(directory), port
        self.data = self.directory / "data"
        self.as_postgres = os.geteuid() == 0

    def _run(self, *argv: str) -> None:
        command = [str(bin_dir() / argv[0]), *argv[1:]]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed: {(result.stderr or result.stdout).strip()[-1500:]}")

    def start(self) -> "Cluster":
        """Create the cluster if needed and start it; wait until it accepts connections."""
        self.directory.mkdir(parents=True, exist_ok=True)
        if self.as_postgres:
            shutil.chown(self.directory, "postgres", "postgres")
        if not (self.data / "PG_VERSION").exists():
            self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                      "--locale=C.UTF-8")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.directory / "server.log"), "-w", "-o",
                  f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=on "
                  "-c max_connections=200", "start")
        return self

    def stop(self) -> None:
        """Stop the server (fast shutdown)."""
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        """A libpq URL for ``database`` on this cluster's socket."""
        return f"postgresql:///{database}?host={self.directory}&port={self.port}&user=postgres"

    def create_database(self, name: str, template: str | None = None) -> str:
        """Create ``name`` (optionally as a copy of ``template``); return its URL."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return self.url(name)
