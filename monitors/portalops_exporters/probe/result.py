"""What one probe found: gauges for Prometheus, and the reasons it failed for a person."""

from __future__ import annotations

from prometheus_client.core import GaugeMetricFamily


class ProbeResult:
    """The gauges of one probe (set, not added: the last value wins) and why it failed, if it did.

    A probe's answer is its own small registry, thrown away after the scrape, as in
    blackbox_exporter: nothing of one target leaks into another's answer.
    """

    def __init__(self):
        self._gauges: dict[str, tuple[str, tuple[str, ...], dict[tuple[str, ...], float]]] = {}
        self.reasons: list[str] = []

    def set(self, name: str, documentation: str, value: float, **labels: str) -> None:
        """Set gauge ``name`` (with ``labels``, whose names are fixed per gauge) to ``value``."""
        _, names, samples = self._gauges.setdefault(name, (documentation, tuple(labels), {}))
        samples[tuple(labels[n] for n in names)] = float(value)

    def fail(self, reason: str) -> bool:
        """Note why the probe failed; returns False, so a prober can ``return result.fail(...)``."""
        self.reasons.append(reason)
        return False

    def value(self, name: str, **labels: str) -> float | None:
        """A gauge's value, or None when it was never set."""
        if name not in self._gauges:
            return None
        _, names, samples = self._gauges[name]
        return samples.get(tuple(labels[n] for n in names))

    def collect(self) -> list[GaugeMetricFamily]:
        """The gauges as metric families, by name (blackbox_exporter's order)."""
        families = []
        for name in sorted(self._gauges):
            documentation, names, samples = self._gauges[name]
            family = GaugeMetricFamily(name, documentation, labels=list(names))
            for values, value in samples.items():
                family.add_metric(list(values), value)
            families.append(family)
        return families
