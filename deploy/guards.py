"""The lock-out guards: every one runs before the first operation that changes a host.

A guard refuses the host (deploy/operations.refuse) when the deploy, carried through, would
lock its operator out or leave the host half-configured: the deploy logs in as an account the
inventory's ``admins`` does not list (the hardened sshd and the account clean-up would shut it
out); its own connection comes from outside ``admin_networks`` (the firewall would drop it); a
portal host has no address for a national service it must call. deploy/site.py calls
:func:`guards` first and deploys nothing else on a refused host, so a refused host is left
exactly as it was: users, sudoers, sshd_config, packages and firewall untouched.
"""

from __future__ import annotations

import ipaddress

from pyinfra import host

from deploy.app import missing_national_services
from deploy.facts import SshClientAddress
from deploy.operations import refuse
from deploy.peers import this_host


def admin_names() -> list[str]:
    """The admin accounts the inventory lists for this host: the whole list (deploy/base.py
    locks any other account in the sudo or SSH login group)."""
    return [admin["name"] for admin in host.data.admins]


def own_login_refusal() -> str | None:
    """Why the deploy's own login would be shut out, or None."""
    user = host.data.ssh_user or "root"
    if user in admin_names():
        return None
    return (f"this deploy logs in as {user!r}, which is not in 'admins' ({', '.join(admin_names()) or 'none'}):"
            " add it (with its key) to the admins data, or the hardened sshd would lock it out")


def admin_network_refusal() -> str | None:
    """Why the firewall would shut out the deploy's own connection, or None."""
    source = host.get_fact(SshClientAddress, _sudo=False)
    networks = [ipaddress.ip_network(n, strict=False) for n in host.data.admin_networks]
    if source and any(ipaddress.ip_address(source) in network for network in networks):
        return None
    return (f"this deploy connects from {source or 'an unknown address'}, outside admin_networks "
            f"({', '.join(map(str, networks)) or 'none'}): the firewall would shut it out")


def national_services_refusal() -> str | None:
    """Why a portal host could not serve (a national service it calls has no address), or None."""
    missing = missing_national_services(host.data)
    if not missing:
        return None
    return (f"a portal host calls the national services, but {', '.join(missing)} has no value: set the real "
            "services' addresses in the inventory (the lab sets its stand-ins')")


def guards() -> bool:
    """Run every guard that applies to this host; refuse it (one failed operation, before any
    change) if any objects. True when the host may be deployed."""
    deploys = this_host().deploys
    reasons = [own_login_refusal()]
    if "firewall" in deploys:
        reasons.append(admin_network_refusal())
    if "app" in deploys:
        reasons.append(national_services_refusal())
    reasons = [reason for reason in reasons if reason]
    if reasons:
        refuse(name="[guard] nothing changes on a host the deploy would lock out or half-configure",
               reason="; ".join(reasons))
    return not reasons
