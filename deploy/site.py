"""The whole deploy: ``pyinfra INVENTORY deploy/site.py --config deploy/config.py`` (or ``portalops deploy INVENTORY``).

The role table (inventory/roles.py) says which packaged deploys a host gets; this file says
in which order. First the lock-out guards (deploy/guards.py): a host one of them refuses gets
nothing else, so it is left as it was. Then the hardening; then each role's services:
PostgreSQL, pgBackRest, nginx with TLS and the WAF, the portal release; then the monitoring
agent, and Prometheus and Alertmanager where they run. Last, the integrity baselines (AIDE,
rkhunter) are taken of the finished host, and the exporter's own one renewed if the deploy
changed it. The national services' stand-ins are the lab's, on a host of its own
(deploy/national_site.py); a province host loses whatever an older deploy put there.

One call a line, in order: pyinfra orders operations across hosts by where they are called.
"""

from deploy.accounting import accounting
from deploy.accounts import accounts
from deploy.app import app
from deploy.backup import backups
from deploy.base import base
from deploy.database import database
from deploy.firewall import firewall
from deploy.guards import guards
from deploy.integrity import integrity
from deploy.intrusion import intrusion
from deploy.kernel import kernel
from deploy.monitoring import integrity_baseline_renewed, monitoring_agent, monitoring_server
from deploy.patching import patching
from deploy.peers import this_host
from deploy.ssh import ssh
from deploy.standins import standins_removed
from deploy.web import web

gets = this_host().deploys if guards() else []

if "base" in gets:
    base()
if "patching" in gets:
    patching()
if "ssh" in gets:
    ssh()
if "firewall" in gets:
    firewall()
if "kernel" in gets:
    kernel()
if "accounts" in gets:
    accounts()
if "intrusion" in gets:
    intrusion()
if "accounting" in gets:
    accounting()
if "database" in gets:
    database()
if "backups" in gets:
    backups()
if "web" in gets:
    web()
if "app" in gets:
    app()
if gets:
    standins_removed()
if "monitoring_agent" in gets:
    monitoring_agent()
if "monitoring_server" in gets:
    monitoring_server()
if "integrity" in gets:
    integrity()
if gets:
    integrity_baseline_renewed()
