"""The whole deploy: ``pyinfra INVENTORY deploy/site.py`` (or ``portalops deploy INVENTORY``).

Every host gets the base, SSH, firewall, kernel, accounts and intrusion
hardening; the role-specific deploys come after them.
"""

from deploy.accounts import accounts
from deploy.base import base
from deploy.firewall import firewall
from deploy.intrusion import intrusion
from deploy.kernel import kernel
from deploy.ssh import ssh

base()
ssh()
firewall()
kernel()
accounts()
intrusion()
