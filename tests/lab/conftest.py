"""The lab province the deploy tests share, converged once for the session."""

import pytest

from tests.lab.province import SIZE, deploy, portalops


@pytest.fixture(scope="session")
def converged():
    """A fresh lab (2020 topology, one district, one commune) after its first deploy."""
    portalops("lab", "down")
    up = portalops("lab", "up", *SIZE)
    assert up.returncode == 0, up.stderr
    first = deploy()
    yield first
    portalops("lab", "down")
