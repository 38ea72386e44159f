"""The monitor host's Prometheus and Alertmanager as the controller asks them: over HTTPS,
trusting the deploy's CA, with the generated password (user ``portalops``).

``portalops monitor INVENTORY`` and the monitoring lab tests read the monitor this way.
"""

from __future__ import annotations

import base64
import json
import ssl
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass

from deploy import defaults
from deploy.monitoring import WEB_USER, web_password
from deploy.tls import ca_dir
from inventory.roles import MONITOR_HOSTS


class MonitorError(RuntimeError):
    """The monitor host cannot be asked; the message says which and why."""


@dataclass(frozen=True)
class Monitor:
    """One monitor host: where its Prometheus and Alertmanager answer, and how to log in."""

    address: str
    password: str
    ca_file: str
    prometheus_port: int = defaults.MONITORING["prometheus_port"]
    alertmanager_port: int = defaults.MONITORING["alertmanager_port"]

    @classmethod
    def from_inventory_entry(cls, entry: dict) -> "Monitor":
        """The monitor host of a pyinfra inventory entry (``name`` and ``data``), defaults filled in."""
        data = type("Data", (), {**defaults.ALL, **entry["data"]})
        return cls(address=data.ssh_hostname or entry["name"], password=web_password(data), ca_file=str(ca_dir(data) / "ca.pem"),
                   prometheus_port=data.prometheus_port, alertmanager_port=data.alertmanager_port)

    def _get(self, port: int, path: str, timeout: float = 10) -> bytes:
        context = ssl.create_default_context(cafile=self.ca_file)
        login = base64.b64encode(f"{WEB_USER}:{self.password}".encode()).decode()
        request = urllib.request.Request(f"https://{self.address}:{port}{path}",
                                         headers={"Authorization": f"Basic {login}"})
        try:
            with urllib.request.urlopen(request, context=context, timeout=timeout) as response:
                return response.read()
        except OSError as error:  # refused, timed out, TLS or HTTP errors
            raise MonitorError(f"https://{self.address}:{port}{path}: {error}") from error

    def query(self, expr: str) -> list[dict]:
        """An instant PromQL query's result vector."""
        body = self._get(self.prometheus_port, "/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
        return json.loads(body)["data"]["result"]

    def targets(self) -> list[dict]:
        """Prometheus's active scrape targets."""
        return json.loads(self._get(self.prometheus_port, "/api/v1/targets?state=active"))["data"]["activeTargets"]

    def alerts(self) -> list[dict]:
        """Alerts of Prometheus's rules, pending or firing."""
        return json.loads(self._get(self.prometheus_port, "/api/v1/alerts"))["data"]["alerts"]

    def firing(self) -> list[dict]:
        """Alerts firing now."""
        return [a for a in self.alerts() if a["state"] == "firing"]

    def in_alertmanager(self) -> list[dict]:
        """Active alerts Alertmanager holds (received, not resolved; inhibited ones too)."""
        return json.loads(self._get(self.alertmanager_port, "/api/v2/alerts?active=true&silenced=false&inhibited=true"))

    def page(self, path: str) -> str:
        """A page Prometheus serves, such as a runbook console."""
        return self._get(self.prometheus_port, path).decode()


def wait_for(predicate, timeout: float, every: float = 5, what: str = "condition"):
    """Poll ``predicate`` until it returns something true, and return that; after ``timeout``
    raise MonitorError (errors while polling, such as a Prometheus restarting, are retried)."""
    deadline = time.monotonic() + timeout
    last_error = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except MonitorError as error:
            last_error = error
        if time.monotonic() >= deadline:
            raise MonitorError(f"{what}: not within {timeout:.0f} s" + (f" (last error: {last_error})" if last_error
                                                                          else ""))
        time.sleep(every)


def monitor_of(entries: list[dict]) -> Monitor:
    """The first monitor host among inventory entries (as inventory.entries.inventory_entries gives them)."""
    for entry in entries:
        if MONITOR_HOSTS.matches(entry["data"].get("roles") or []):
            return Monitor.from_inventory_entry(entry)
    raise MonitorError(f"the inventory has none of {MONITOR_HOSTS}")
