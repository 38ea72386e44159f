"""Hardening only, no role services: ``pyinfra INVENTORY deploy/harden.py --config deploy/config.py``.

What bench/deploy.py measures against Ansible: the hardening every host gets in deploy/site.py,
in the same order, then the integrity baselines.
"""

from deploy.accounting import accounting
from deploy.accounts import accounts
from deploy.base import base
from deploy.firewall import firewall
from deploy.integrity import integrity
from deploy.intrusion import intrusion
from deploy.kernel import kernel
from deploy.patching import patching
from deploy.ssh import ssh

base()
patching()
ssh()
firewall()
kernel()
accounts()
intrusion()
accounting()
integrity()
