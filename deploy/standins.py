"""The national-service stand-ins (SSO, payment platform, national portal): the lab's outside party.

In the lab they run on a host of their own (lab/national.py), which is not one of the
province's hosts: ``portalops lab up`` deploys them there with ``deploy/national_site.py``,
and the province's inventory names only their addresses (``national_*_url``), as a production
inventory names the real services'. They hold what the real services would: the SSO client
secret, the national portal's token and every unit's merchant key at the payment platform.

No province host runs them: :func:`standins_removed` takes away whatever an older deploy put
there (the service, its unit, its state and release, the copies of its secrets).
"""

from __future__ import annotations

import json
from io import StringIO

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.facts.files import Directory, File, FindDirectories
from pyinfra.operations import files, systemd
from pyinfra.operations.util import any_changed

from deploy import defaults
from deploy.app import BASE, SECRETS, install, merchant_key, prepare, put_secrets
from deploy.operations import apt_refresh
from deploy.peers import address_of, this_host
from deploy.secrets import secret, secrets_dir
from deploy.templates import render

UNIT = "/etc/systemd/system/dichvucong-standins.service"
STATE = "/var/lib/dichvucong/standins"
RELEASES = "-standins"  # the suffix of their release directories under BASE/releases


@deploy("National-service stand-ins", data_defaults=defaults.ALL)
def standins():
    """Install and run the stand-ins on the lab's national-services host."""
    data = host.data
    if data.apt_proxy:
        files.put(name="Stand-ins: the lab's apt cache", dest="/etc/apt/apt.conf.d/01portalops-proxy",
                  src=StringIO(f'Acquire::http::Proxy "{data.apt_proxy}";\n'))
    apt_refresh(name="Stand-ins: package lists", cache_time=3600)
    code_release, version, changed = prepare(data)
    target = f"{BASE}/releases/{code_release}{RELEASES}"
    install(target, f"{BASE}/wheelhouse/{code_release}", f"dichvucong=={version}")
    keys = secrets_dir(data.secrets_dir)
    merchants = {unit: merchant_key(unit, keys) for unit in data.merchant_units}
    changed += put_secrets({"sso_client_secret": secret("sso-client-secret", keys),
                            "national_token": secret("national-token", keys),
                            "payment_secrets.json": json.dumps(merchants, indent=1, sort_keys=True) + "\n"})
    files.directory(name="Stand-ins: state", path=STATE, user="dichvucong", group="dichvucong", mode="750")
    changed.append(files.put(name="Stand-ins: dichvucong-standins.service", dest=UNIT, src=StringIO(render(
        "standins.service.j2", data, target=target, secrets_dir=SECRETS,
        public_url=f"http://{address_of()}:{data.standins_port}"))))
    systemd.daemon_reload(name="Stand-ins: units reloaded", _if=any_changed(*changed))
    systemd.service(name="Stand-ins: running", service="dichvucong-standins", running=True, enabled=True)
    systemd.service(name="Stand-ins: restarted", service="dichvucong-standins", restarted=True,
                    _if=any_changed(*changed))


def standins_removed() -> None:
    """On a province host: nothing of the stand-ins an older deploy put there."""
    if host.get_fact(File, path=UNIT):
        systemd.service(name="No stand-ins on a province host: stopped", service="dichvucong-standins",
                        running=False, enabled=False)
        files.file(name="No stand-ins on a province host: unit", path=UNIT, present=False)
        systemd.daemon_reload(name="No stand-ins on a province host: units reloaded")
    if host.get_fact(Directory, path=STATE):
        files.directory(name="No stand-ins on a province host: state", path=STATE, present=False)
    for path in host.get_fact(FindDirectories, path=f"{BASE}/releases", maxdepth=1, fname=f"*{RELEASES}") or []:
        files.directory(name=f"No stand-ins on a province host: release {path}", path=path, present=False)
    # A portal host's own secrets are the app deploy's (it removes any other file there);
    # a host without the portal keeps none.
    if "app" not in this_host().deploys and host.get_fact(Directory, path=SECRETS):
        files.directory(name="No stand-ins on a province host: their secrets", path=SECRETS, present=False)
