"""What every portalops collector shares: ``<name>_up`` and ``<name>_scrape_duration_seconds``.

A collector is any object with a ``collect()`` that yields metric families, read at
scrape time. :class:`Scraped` wraps it under a name: when ``collect()`` raises, the
families it had yielded are dropped (a half-read scrape would look like a drop to
zero), ``<name>_up`` is 0 and the error goes to the log, once per distinct message.
"""

from __future__ import annotations

import logging
import time
from typing import Iterable, Protocol

from prometheus_client.core import GaugeMetricFamily, Metric

log = logging.getLogger("portalops_exporters")


class Collector(Protocol):
    """Anything a registry can collect from."""

    def collect(self) -> Iterable[Metric]:
        """Yield metric families, reading the world now."""


class Scraped:
    """``collector``'s families plus ``<name>_up`` and ``<name>_scrape_duration_seconds``."""

    def __init__(self, name: str, collector: Collector):
        self.name, self.collector = name, collector
        self._last_error: str | None = None

    def collect(self) -> Iterable[Metric]:
        """Yield the collector's families (all or none), then whether it worked and how long it took."""
        started = time.perf_counter()
        try:
            families = list(self.collector.collect())
            up = 1.0
            self._last_error = None
        except Exception as error:  # one broken read must not take the other collectors down
            families, up = [], 0.0
            message = f"{self.name}: {type(error).__name__}: {error}"
            if message != self._last_error:
                log.error("collector failed: %s", message)
                self._last_error = message
        yield from families
        yield gauge(f"{self.name}_up", "1 if the last scrape of this collector worked, else 0.", up)
        yield gauge(f"{self.name}_scrape_duration_seconds", "Time this collector took to read, in seconds.",
                    time.perf_counter() - started)


def gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    """A gauge family with one unlabelled sample."""
    family = GaugeMetricFamily(name, documentation)
    family.add_metric([], value)
    return family
