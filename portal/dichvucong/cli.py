"""``dichvucong``: run the portal, its outbox sender, the schema migration and the stand-ins."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile


KEEP_ALIVE_SECONDS = 75


def serve(args) -> None:
    """The portal under gunicorn with uvicorn workers (multiprocess metrics)."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="dichvucong-metrics-")
    argv = [sys.executable, "-m", "gunicorn", "dichvucong.app:create_app()", "--worker-class", "uvicorn_worker.UvicornWorker",
            "--workers", str(args.workers), "--bind", args.bind, "--graceful-timeout", "20",
            "--timeout", "60", "--access-logfile", "-" if args.gunicorn_access_log else "/dev/null",
            # Idle connections stay open longer than nginx keeps its upstream ones (60 s): with
            # gunicorn's 2 s, nginx (or a client) reuses a connection the worker is closing and a
            # POST, which is not retried, fails.
            "--keep-alive", str(KEEP_ALIVE_SECONDS)]
    os.execvp(argv[0], argv)


def migrate(args) -> None:
    """Create or update the schema and seed the catalogue."""
    from dichvucong.config import Config
    from dichvucong.db import migrate as run

    run(Config.from_env().database_url)
    print("schema up to date")


def outbox(args) -> None:
    """Deliver the sync outbox until stopped."""
    from dichvucong import logs
    from dichvucong.config import Config
    from dichvucong.outbox import run_sender

    logs.setup()
    try:
        asyncio.run(run_sender(Config.from_env()))
    except KeyboardInterrupt:
        pass


def standins(args) -> None:
    """The SSO, payment gateway and national-portal stand-ins, in one process."""
    import uvicorn

    uvicorn.run("dichvucong.standins.app:create_app", factory=True, host=args.host, port=args.port,
                log_level="warning")


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and run the chosen command."""
    parser = argparse.ArgumentParser(prog="dichvucong", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help=serve.__doc__)
    run.add_argument("--bind", default="127.0.0.1:8000")
    run.add_argument("--workers", type=int, default=2)
    run.add_argument("--gunicorn-access-log", action="store_true", help="also gunicorn's own access log")
    run.set_defaults(func=serve)
    commands.add_parser("migrate", help=migrate.__doc__).set_defaults(func=migrate)
    commands.add_parser("outbox", help=outbox.__doc__).set_defaults(func=outbox)
    stand = commands.add_parser("standins", help=standins.__doc__)
    stand.add_argument("--host", default="127.0.0.1")
    stand.add_argument("--port", type=int, default=8900)
    stand.set_defaults(func=standins)
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except ValueError as error:  # configuration errors name the variable
        sys.exit(f"dichvucong: {error}")
