"""``portalops-exporter``: the exporters of one host in one process, from a JSON configuration.

The deploy writes ``/etc/portalops-exporter/agent.json``::

    {
      "listen": {"address": "0.0.0.0", "port": 9120},
      "tls": {"cert": ".../cert.pem", "key": ".../key.pem", "client_ca": ".../ca.pem"},
      "collectors": {"security": {...options...}, "services": {...}, "dossiers": {...}},
      "probe": {...modules...}
    }

Each entry of ``collectors`` is a collector's constructor options, served on ``/metrics``
under ``portalops_<name>_up`` and ``portalops_<name>_scrape_duration_seconds``; ``probe``,
when present, serves blackbox-style probes on ``/probe``. A configuration that names an
unknown collector or gives one an option it does not take is refused at start, naming it.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import signal
import sys
import threading
from pathlib import Path

from prometheus_client import CollectorRegistry

from portalops_exporters.exporter import Scraped
from portalops_exporters.server import Tls, routes, serve

# Collector name -> "module:class"; imported only when configured.
COLLECTORS = {
    "security": "portalops_exporters.security:SecurityCollector",
    "services": "portalops_exporters.services:ServicesCollector",
    "dossiers": "portalops_exporters.dossiers:DossiersCollector",
}
PROBE_APP = "portalops_exporters.probe:make_app"


class ConfigError(ValueError):
    """An agent configuration that cannot be served; the message says what is wrong."""


def _load(dotted: str):
    module, name = dotted.split(":")
    return getattr(importlib.import_module(module), name)


def build(config: dict) -> tuple[CollectorRegistry, dict]:
    """The registry of the configured collectors and the extra routes (``/probe``)."""
    registry = CollectorRegistry(auto_describe=False)
    unknown = sorted(set(config.get("collectors", {})) - set(COLLECTORS))
    if unknown:
        raise ConfigError(f"unknown collector(s) {', '.join(unknown)}; known: {', '.join(COLLECTORS)}")
    for name, options in sorted(config.get("collectors", {}).items()):
        try:
            collector = _load(COLLECTORS[name])(**options)
        except TypeError as error:
            raise ConfigError(f"collector {name}: {error}") from error
        registry.register(Scraped(f"portalops_{name}", collector))
    extra = {}
    if "probe" in config:
        prober = _load(PROBE_APP)(config["probe"])
        registry.register(Scraped("portalops_probe", prober))  # its own request counters
        extra["/probe"] = prober
    return registry, extra


def main(argv: list[str] | None = None) -> int:
    """Serve the configured exporters until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(prog="portalops-exporter", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    agent = commands.add_parser("agent", help="serve the exporters named in a configuration file")
    agent.add_argument("--config", type=Path, required=True, help="the agent's JSON configuration")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        config = json.loads(args.config.read_text())
        registry, extra = build(config)
        listen, tls = config.get("listen", {}), config.get("tls")
        server, _ = serve(routes(registry, extra), listen.get("address", "0.0.0.0"), int(listen.get("port", 9120)),
                          Tls(**tls) if tls else None)
    except (OSError, ValueError, TypeError) as error:  # ConfigError, bad JSON, unreadable files, port in use
        print(f"portalops-exporter: {args.config}: {error}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
