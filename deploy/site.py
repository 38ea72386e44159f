"""The whole deploy: ``pyinfra INVENTORY deploy/site.py`` (or ``portalops deploy INVENTORY``).

Every host gets the base, SSH, firewall, kernel, accounts and intrusion
hardening; then each role's own: PostgreSQL on the db host (and, for its own
portal, on each one-stop host), nginx with TLS and the WAF and the portal release
behind it on portal and one-stop hosts, the national-service stand-ins on the
monitor host.
"""

from pyinfra import host

from deploy.accounts import accounts
from deploy.app import app
from deploy.base import base
from deploy.database import database
from deploy.firewall import firewall
from deploy.intrusion import intrusion
from deploy.kernel import kernel
from deploy.ssh import ssh
from deploy.standins import standins
from deploy.web import web

base()
ssh()
firewall()
kernel()
accounts()
intrusion()

roles = set(host.data.roles or [])
if {"db", "onestop"} & roles:
    database()
if {"portal", "onestop"} & roles:
    web()
    app()
if "monitor" in roles:
    standins()
