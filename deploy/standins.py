"""The national-service stand-ins (SSO, payment gateway, national portal) on the monitor host,
so the lab's portals log in, take payments and sync without ever touching the real services.

They run from the same release as the portal, share its secrets (the SSO client secret, the
payment key, the national sync token) through the controller's secret store, and are
reachable from the portal and one-stop hosts and the admin networks only (deploy/firewall.py).
"""

from __future__ import annotations

from io import StringIO

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import files, systemd
from pyinfra.operations.util import any_changed

from deploy import defaults
from deploy.app import BASE, install, prepare, put_secrets, standins_url
from deploy.controls import named
from deploy.secrets import secret, secrets_dir
from deploy.templates import render


@deploy("Stand-ins", data_defaults=defaults.ALL)
def standins():
    """Install and run the stand-ins (app-01, app-02)."""
    data = host.data
    code_release, version, changed = prepare(data)
    target = f"{BASE}/releases/{code_release}-standins"
    install(target, f"{BASE}/wheelhouse/{code_release}", f"dichvucong=={version}")
    keys = secrets_dir(data.secrets_dir)
    changed += put_secrets({name: secret(name.replace("_", "-"), keys)
                            for name in ("sso_client_secret", "payment_secret", "national_token")})
    files.directory(name=named("app-02") + ": stand-ins state", path="/var/lib/dichvucong/standins",
                    user="dichvucong", group="dichvucong", mode="750")
    changed.append(files.put(name=named("app-02") + ": dichvucong-standins.service",
                             dest="/etc/systemd/system/dichvucong-standins.service",
                             src=StringIO(render("standins.service.j2", data, target=target,
                                                 standins_url=standins_url(data)))))
    systemd.daemon_reload(name=named("app-02") + ": units reloaded", _if=any_changed(*changed))
    systemd.service(name=named("app-03") + ": stand-ins running", service="dichvucong-standins", running=True,
                    enabled=True)
    systemd.service(name=named("app-03") + ": stand-ins restarted", service="dichvucong-standins", restarted=True,
                    _if=any_changed(*changed))
