"""The hardening every host gets, whatever its role: base, SSH, firewall, kernel, accounts, intrusion."""

from deploy.accounts import accounts
from deploy.base import base
from deploy.firewall import firewall
from deploy.intrusion import intrusion
from deploy.kernel import kernel
from deploy.ssh import ssh


def harden():
    """Apply the six hardening deploys in order (the guards in base and firewall run first)."""
    base()
    ssh()
    firewall()
    kernel()
    accounts()
    intrusion()
