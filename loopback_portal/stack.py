"""Start and stop the portal, its stand-ins and its database on loopback.

Secrets (SSO client secret, payment key, sync tokens) are generated per stack
into files of mode 0600 in the stack's directory and handed over as *_FILE
variables, never on a command line.

By default every portal is payment merchant H56 with one shared key, and one-stop
hosts sync to the province with one shared token. A stack may instead give units a
merchant and key of their own (``merchant_units``, as the deploy does) and start the
province with a senders file (``sync_senders``); with no nginx in front, a test then
sends the X-Sync-Sender header nginx would set.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from dichvucong.config import PROVINCE_UNIT_CODE
from loopback_portal.postgres import Cluster

DICHVUCONG = str(Path(sys.executable).with_name("dichvucong"))
SECRET_NAMES = ("sso_client_secret", "payment_secret", "national_token", "sync_inbound_token")


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_ready(url: str, processes: list["Process"], timeout: float = 30) -> None:
    """Poll ``url`` until it answers 200; raise naming the URL (or the process that died)."""
    deadline, last = time.monotonic() + timeout, "no answer"
    while time.monotonic() < deadline:
        for process in processes:
            if process.popen and process.popen.poll() is not None:
                tail = process.log.read_text(errors="replace")[-1500:]
                raise RuntimeError(f"{process.name} exited ({process.popen.returncode}); its log ends:\n{tail}")
        try:
            response = httpx.get(url, timeout=2)
            if response.status_code == 200:
                return
            last = f"{response.status_code} {response.text[:200]}"
        except httpx.HTTPError as error:
            last = type(error).__name__
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready after {timeout:.0f} s: {last}")


@dataclass
class Process:
    """A service the stack started, with its log file."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen | None = None

    def start(self) -> None:
        """Start it in its own session, output to its log."""
        with open(self.log, "ab") as log:
            self.popen = subprocess.Popen(self.argv, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL, start_new_session=True)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
        """Signal the whole process group and wait for it."""
        if not self.popen or self.popen.poll() is not None:
            return
        try:
            os.killpg(self.popen.pid, sig)
            self.popen.wait(timeout)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()


@dataclass
class Portal:
    """One portal instance: the province's, or a one-stop host's."""

    unit_code: str
    mode: str
    port: int
    database_url: str
    sync_url: str
    sync_token_file: Path
    stack: "Stack"
    processes: list[Process] = field(default_factory=list)
    overrides: dict[str, str] = field(default_factory=dict)  # settings of this instance only

    @property
    def url(self) -> str:
        """Where the portal answers."""
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """The portal's environment (the same a deployed host's EnvironmentFile holds)."""
        s = self.stack
        unit_dir = self.unit_code.replace(".", "-")
        return dict(
            os.environ,
            DVC_DATABASE_URL=self.database_url, DVC_UNIT_CODE=self.unit_code, DVC_MODE=self.mode,
            DVC_PUBLIC_URL=self.url, DVC_UPLOAD_DIR=str(s.directory / "uploads" / unit_dir),
            DVC_SSO_ISSUER=f"{s.standins_url}/sso", DVC_SSO_CLIENT_SECRET_FILE=str(s.secret("sso_client_secret")),
            DVC_PAYMENT_URL=f"{s.standins_url}/gateway", DVC_PAYMENT_SECRET_FILE=str(s.secret("payment_secret")),
            DVC_SYNC_URL=self.sync_url, DVC_SYNC_TOKEN_FILE=str(self.sync_token_file),
            DVC_SYNC_INBOUND_TOKEN_FILE=str(s.secret("sync_inbound_token")),
            PROMETHEUS_MULTIPROC_DIR=str(s.directory / "metrics" / self.name),
        ) | self.credentials() | s.portal_env | self.overrides

    def credentials(self) -> dict[str, str]:
        """The settings of this unit's own credentials, where the stack gives it some."""
        s, own = self.stack, {}
        if self.unit_code in s.merchant_units:
            own.update(DVC_PAYMENT_MERCHANT=self.unit_code,
                       DVC_PAYMENT_SECRET_FILE=str(s.secret(merchant_secret(self.unit_code))))
        if self.mode == "province" and s.sync_senders is not None:
            own.update(DVC_SYNC_SENDERS_FILE=str(s.senders_file))
        return own

    @property
    def name(self) -> str:
        """Names this instance's logs and metrics files (two instances may serve one unit)."""
        return f"{self.unit_code.replace('.', '-')}-{self.port}"

    def start(self) -> None:
        """Migrate, then start the web workers and the outbox sender; wait until ready."""
        env = self.env()
        metrics_dir = Path(env["PROMETHEUS_MULTIPROC_DIR"])
        metrics_dir.mkdir(parents=True, exist_ok=True)
        for stale in metrics_dir.glob("*.db"):
            stale.unlink()
        subprocess.run([DICHVUCONG, "migrate"], env=env, check=True, capture_output=True)
        name = self.name
        self.processes = [
            Process(f"portal {name}", [DICHVUCONG, "serve", "--bind", f"127.0.0.1:{self.port}",
                                       "--workers", str(self.stack.workers)], env,
                    self.stack.directory / f"portal-{name}.log"),
            Process(f"outbox {name}", [DICHVUCONG, "outbox"], env, self.stack.directory / f"outbox-{name}.log"),
        ]
        for process in self.processes:
            process.start()
        wait_until_ready(f"{self.url}/readyz", self.processes)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop the web workers and the sender (SIGKILL to simulate a crash)."""
        for process in self.processes:
            process.stop(sig)


def merchant_secret(unit_code: str) -> str:
    """The name of the secret holding the payment key of ``unit_code``'s own merchant."""
    return f"payment_secret-{unit_code}"


class Stack:
    """PostgreSQL, the stand-ins, the provincial portal, and any one-stop portals.

    + merchant_units: units that are payment merchants of their own, named by unit code, each
      with its own key; the gateway then knows these merchants only. Empty: every portal is
      merchant H56 with one shared key
    + sync_senders: host name -> unit code, the province's senders file; None: token only
    """

    def __init__(self, directory: Path, workers: int = 2, portal_port: int | None = None,
                 standins_port: int | None = None, portal_env: dict[str, str] | None = None,
                 merchant_units: tuple[str, ...] = (), sync_senders: dict[str, str] | None = None):
        self.directory = Path(directory)
        self.workers = workers
        self.portal_env = dict(portal_env or {})
        self.merchant_units = tuple(merchant_units)
        self.sync_senders = sync_senders
        self.cluster = Cluster(self.directory / "postgres", free_port())
        self.standins_port = standins_port or free_port()
        self.portal_port = portal_port or free_port()
        self.standins: Process | None = None
        self.portals: list[Portal] = []

    @property
    def standins_url(self) -> str:
        """Where the stand-ins answer."""
        return f"http://127.0.0.1:{self.standins_port}"

    @property
    def province(self) -> Portal:
        """The provincial portal."""
        return self.portals[0]

    def secret(self, name: str) -> Path:
        """The file holding a generated secret (mode 0600)."""
        return self.directory / "secrets" / name

    @property
    def merchant_keys_file(self) -> Path:
        """The gateway's keys of the units' own merchants (merchant -> key)."""
        return self.secret("payment_secrets.json")

    @property
    def senders_file(self) -> Path:
        """The province's senders file (host name -> unit code)."""
        return self.directory / "sync_senders.json"

    def _write_secrets(self) -> None:
        folder = self.directory / "secrets"
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o700)
        for name in SECRET_NAMES + tuple(merchant_secret(unit) for unit in self.merchant_units):
            path = self.secret(name)
            if not path.exists():
                path.touch(mode=0o600)
                path.write_text(secrets.token_urlsafe(32))
        if self.merchant_units:
            self.merchant_keys_file.touch(mode=0o600)
            self.merchant_keys_file.write_text(json.dumps(
                {unit: self.secret(merchant_secret(unit)).read_text() for unit in self.merchant_units}))
        if self.sync_senders is not None:
            self.senders_file.write_text(json.dumps(self.sync_senders))

    def start(self) -> "Stack":
        """Start everything; the provincial portal syncs to the national stand-in."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self._write_secrets()
        self.cluster.start()
        env = dict(os.environ, STANDIN_PUBLIC_URL=self.standins_url, STANDIN_STATE_DIR=str(self.directory / "standins"),
                   STANDIN_SSO_CLIENT_SECRET_FILE=str(self.secret("sso_client_secret")),
                   STANDIN_SSO_REDIRECT_PREFIX="http://127.0.0.1:",
                   STANDIN_NATIONAL_TOKEN_FILE=str(self.secret("national_token")))
        if self.merchant_units:
            env["STANDIN_PAYMENT_SECRETS_FILE"] = str(self.merchant_keys_file)
        else:
            env["STANDIN_PAYMENT_SECRET_FILE"] = str(self.secret("payment_secret"))
        self.standins = Process("standins", [DICHVUCONG, "standins", "--port", str(self.standins_port)], env,
                                self.directory / "standins.log")
        self.standins.start()
        try:
            wait_until_ready(f"{self.standins_url}/healthz", [self.standins])
            self.add_portal(PROVINCE_UNIT_CODE, "province", self.portal_port)
        except BaseException:
            self.stop()
            raise
        return self

    def add_replica(self, of: Portal, env: dict[str, str] | None = None) -> Portal:
        """A second instance of a portal on the same database (another host of the same unit),
        with settings ``env`` of its own."""
        replica = Portal(of.unit_code, of.mode, free_port(), of.database_url, of.sync_url, of.sync_token_file, self,
                         overrides=of.overrides | (env or {}))
        self.portals.append(replica)
        replica.start()
        return replica

    def add_portal(self, unit_code: str, mode: str, port: int | None = None,
                   env: dict[str, str] | None = None) -> Portal:
        """Start a portal for ``unit_code``, with settings ``env`` of its own: the province syncs to
        the national stand-in, a one-stop host to the provincial portal."""
        database = "dichvucong_" + unit_code.replace(".", "_").lower()
        url = self.cluster.url(database)
        if not self._database_exists(database):
            self.cluster.create_database(database)
        if mode == "province":
            sync_url, token = f"{self.standins_url}/national", self.secret("national_token")
        else:
            sync_url, token = f"{self.province.url}/api/sync", self.secret("sync_inbound_token")
        portal = Portal(unit_code, mode, port or free_port(), url, sync_url, token, self, overrides=dict(env or {}))
        self.portals.append(portal)
        portal.start()
        return portal

    def _database_exists(self, name: str) -> bool:
        import psycopg

        with psycopg.connect(self.cluster.url(), autocommit=True) as conn:
            return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None

    def stop(self) -> None:
        """Stop every process and the database."""
        for portal in reversed(self.portals):
            portal.stop()
        if self.standins:
            self.standins.stop()
        self.cluster.stop()
