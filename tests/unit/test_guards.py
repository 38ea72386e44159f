"""The lock-out guards (deploy/guards.py): each objection, and that a refused host gets one
failed operation with every reason, before any other."""

from types import SimpleNamespace

import pytest

import deploy.guards as guards
from deploy import defaults
from inventory.roles import HostRoles

NATIONAL = {"national_sso_url": "https://sso.gov.vn", "national_payment_url": "https://pay.gov.vn",
            "national_sync_url": "https://dichvucong.gov.vn/sync"}


@pytest.fixture
def on_host(monkeypatch):
    """Run the guards as pyinfra would on a host with some data; returns the refusals made."""
    refused = []

    def run(roles, source="198.18.0.1", **data):
        values = {**defaults.ALL, "ssh_user": "portalops", "roles": roles,
                  "admins": [{"name": "portalops", "keys": ["ssh-ed25519 AAAA"]}],
                  "admin_networks": ["198.18.0.1/32"], **data}
        fake = SimpleNamespace(data=SimpleNamespace(**values), get_fact=lambda fact, **kw: source)
        monkeypatch.setattr(guards, "host", fake)
        monkeypatch.setattr(guards, "this_host", lambda: HostRoles.of(roles))
        monkeypatch.setattr(guards, "refuse", lambda name, reason: refused.append((name, reason)))
        return guards.guards()

    run.refused = refused
    return run


def test_a_host_the_deploy_can_keep_reaching_is_let_through(on_host):
    assert on_host(["portal"], **NATIONAL) and on_host.refused == []


def test_a_deploy_login_missing_from_admins_is_refused(on_host):
    assert not on_host(["db"], admins=[])
    (name, reason), = on_host.refused
    assert name.startswith("[guard]") and "'portalops', which is not in 'admins'" in reason


def test_a_connection_from_outside_the_admin_networks_is_refused(on_host):
    assert not on_host(["db"], source="10.0.0.5")
    assert "connects from 10.0.0.5, outside admin_networks (198.18.0.1/32)" in on_host.refused[0][1]


def test_a_portal_host_without_the_national_services_is_refused_naming_each_missing_one(on_host):
    assert not on_host(["onestop"], national_sso_url="https://sso.gov.vn")
    assert "national_payment_url, national_sync_url has no value" in on_host.refused[0][1]
    assert on_host(["db"])  # a host without the portal calls no national service


def test_every_reason_is_given_in_one_refusal(on_host):
    assert not on_host(["portal"], source="10.0.0.5", admins=[])
    (_, reason), = on_host.refused
    assert "not in 'admins'" in reason and "outside admin_networks" in reason and "national_sso_url" in reason
