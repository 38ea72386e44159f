"""The lab's Prometheus and Alertmanager, as the monitoring tests ask them: over HTTPS with the
deploy's CA and the generated password, and waiting for what they should come to say."""

from __future__ import annotations

import base64
import json
import ssl
import time
import urllib.parse
import urllib.request

from deploy.secrets import secret, secrets_dir
from deploy.tls import default_ca_dir
from tests.lab.province import ADDRESS

MONITOR = ADDRESS["monitor-1"]
PROMETHEUS = f"https://{MONITOR}:9090"
ALERTMANAGER = f"https://{MONITOR}:9093"


def _get(url: str, timeout: float = 10) -> bytes:
    context = ssl.create_default_context(cafile=str(default_ca_dir() / "ca.pem"))
    login = base64.b64encode(f"portalops:{secret('prometheus-web-password', secrets_dir())}".encode()).decode()
    request = urllib.request.Request(url, headers={"Authorization": f"Basic {login}"})
    with urllib.request.urlopen(request, context=context, timeout=timeout) as response:
        return response.read()


def query(expr: str) -> list[dict]:
    """An instant PromQL query's result vector."""
    body = json.loads(_get(f"{PROMETHEUS}/api/v1/query?" + urllib.parse.urlencode({"query": expr})))
    return body["data"]["result"]


def targets() -> list[dict]:
    """Prometheus's active targets."""
    return json.loads(_get(f"{PROMETHEUS}/api/v1/targets?state=active"))["data"]["activeTargets"]


def firing_in_prometheus() -> list[dict]:
    """Alerts Prometheus has firing now (not pending)."""
    alerts = json.loads(_get(f"{PROMETHEUS}/api/v1/alerts"))["data"]["alerts"]
    return [a for a in alerts if a["state"] == "firing"]


def in_alertmanager() -> list[dict]:
    """Active alerts Alertmanager holds (received from Prometheus, not resolved)."""
    return json.loads(_get(f"{ALERTMANAGER}/api/v2/alerts?active=true&silenced=false&inhibited=true"))


def page(path: str) -> str:
    """A page Prometheus serves (for example a runbook console)."""
    return _get(f"{PROMETHEUS}{path}").decode()


def has_alert(alerts: list[dict], name: str, instance: str) -> bool:
    """True if ``alerts`` hold ``name`` on ``instance``."""
    return any(a["labels"].get("alertname") == name and a["labels"].get("instance") == instance for a in alerts)


def wait_for(predicate, timeout: float, every: float = 5, what: str = "condition"):
    """Poll ``predicate`` until it returns something true; that value, or AssertionError after ``timeout``."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except OSError as error:  # Prometheus restarting, a host briefly away
            last_error = error
        time.sleep(every)
    raise AssertionError(f"{what}: not within {timeout:.0f} s" + (f" (last error: {last_error})" if last_error else ""))
