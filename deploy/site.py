"""The whole deploy: ``pyinfra INVENTORY deploy/site.py --config deploy/config.py`` (or ``portalops deploy INVENTORY``).

Every host gets the base, SSH, firewall, kernel, accounts and intrusion
hardening; then each role's own: PostgreSQL on the db host (and, for its own
portal, on each one-stop host), nginx with TLS and the WAF and the portal release
behind it on portal and one-stop hosts, the national-service stand-ins on the
monitor host, and pgBackRest on every PostgreSQL host with a copy on the backup host.
Every host then gets its monitoring agent (node_exporter and the portalops exporters), the
monitor host Prometheus and Alertmanager. Last, the integrity baselines (AIDE, rkhunter)
are taken of the finished host, and the exporter's own one renewed if the deploy changed it.
"""

from pyinfra import host

from deploy.app import app
from deploy.backup import backups
from deploy.database import DATABASE_ROLES, database
from deploy.hardening import baselines, harden
from deploy.monitoring import integrity_baseline_renewed, monitoring_agent, monitoring_server
from deploy.standins import standins
from deploy.web import WEB_ROLES, web

harden()

roles = set(host.data.roles or [])
if set(DATABASE_ROLES) & roles:
    database()
if set(DATABASE_ROLES) & roles or "backup" in roles:
    backups()
if set(WEB_ROLES) & roles:
    web()
    app()
if "monitor" in roles:
    standins()
monitoring_agent()
if "monitor" in roles:
    monitoring_server()
baselines()
integrity_baseline_renewed()
