"""The whole deploy: ``pyinfra INVENTORY deploy/site.py`` (or ``portalops deploy INVENTORY``).

Every host gets the base, SSH and firewall hardening; the role-specific
deploys come after them.
"""

from deploy.base import base
from deploy.firewall import firewall
from deploy.ssh import ssh

base()
ssh()
firewall()
