"""The lab's monitor host (Prometheus and Alertmanager), as the monitoring tests ask it."""

from __future__ import annotations

from functools import cache

from deploy import defaults
from deploy.secrets import secret, secrets_dir
from deploy.tls import default_ca_dir
from portalops.prometheus import Monitor, MonitorError
from portalops.prometheus import wait_for as wait_for_monitor
from tests.lab.province import ADDRESS


@cache
def monitor() -> Monitor:
    """The lab's monitor host, with the deploy's CA and password (both made on first use)."""
    return Monitor(ADDRESS["monitor-1"], secret("prometheus-web-password", secrets_dir()),
                   str(default_ca_dir() / "ca.pem"), defaults.MONITORING["prometheus_port"],
                   defaults.MONITORING["alertmanager_port"])


def query(expr: str) -> list[dict]:
    """An instant PromQL query's result vector."""
    return monitor().query(expr)


def has_alert(alerts: list[dict], name: str, instance: str) -> bool:
    """True if ``alerts`` hold ``name`` on ``instance``."""
    return any(a["labels"].get("alertname") == name and a["labels"].get("instance") == instance for a in alerts)


def wait_for(predicate, timeout: float, every: float = 5, what: str = "condition"):
    """Poll ``predicate`` until it returns something true; that value, else AssertionError after ``timeout``."""
    try:
        return wait_for_monitor(predicate, timeout, every, what)
    except MonitorError as error:
        raise AssertionError(str(error)) from error
