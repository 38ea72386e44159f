"""The hardening every host gets, whatever its role: base, patching, SSH, firewall, kernel,
accounts, intrusion, accounting; and the integrity baselines, taken once the host is finished."""

from deploy.accounting import accounting
from deploy.accounts import accounts
from deploy.base import base
from deploy.firewall import firewall
from deploy.integrity import integrity
from deploy.intrusion import intrusion
from deploy.kernel import kernel
from deploy.patching import patching
from deploy.ssh import ssh


def harden():
    """Apply the hardening deploys in order (the guards in base and firewall run first)."""
    base()
    patching()
    ssh()
    firewall()
    kernel()
    accounts()
    intrusion()
    accounting()


def baselines():
    """Lynis, and the AIDE and rkhunter baselines: last, after the roles' software is in."""
    integrity()
