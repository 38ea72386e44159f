"""The lab province the deploy tests share, converged once for the session."""

import os

import pytest

from tests.lab.province import FRESH_REFUSALS, SIZE, deploy, portalops, refused_on_fresh_hosts


@pytest.fixture(scope="session")
def converged():
    """A fresh lab (2020 topology, one district, one commune) after its first deploy; before it,
    deploys the guards refuse are tried on the fresh hosts (FRESH_REFUSALS).

    With PORTALOPS_REUSE_LAB=1 the running lab of that size, already deployed, is used as it
    is and left running (for working on one test; the full suite needs a fresh lab).
    """
    if os.environ.get("PORTALOPS_REUSE_LAB") == "1":
        yield deploy()
        return
    portalops("lab", "down")
    up = portalops("lab", "up", *SIZE)
    assert up.returncode == 0, up.stderr
    FRESH_REFUSALS.update(refused_on_fresh_hosts())
    first = deploy()
    yield first
    portalops("lab", "down")


# Runs first of the lab tests, on the freshly converged lab: the others inject failed logins,
# new accounts and stopped services that rightly raise alerts for a while.
FIRST = "test_after_the_deploy_every_target_is_up_and_nothing_fires"


def pytest_collection_modifyitems(items):
    """Put the quiet-monitoring check first (see FIRST)."""
    items.sort(key=lambda item: item.name != FIRST)
