"""Account lock-out on the lab, by a real failed-login sequence through the host's PAM stack."""

import pytest

from tests.lab.province import host

pytestmark = pytest.mark.lab

PASSWORD = "Tk7#pQ2vLx9!mR4wZe"  # a throw-away account's, on a lab host only; pwquality takes it


@pytest.fixture
def probe_account(converged):
    node = host("huyen-thanh-hoa")
    node.run("DEBIAN_FRONTEND=noninteractive apt-get install -y -q pamtester")
    node.run("useradd -m lockprobe")
    assert node.run(f"echo 'lockprobe:{PASSWORD}' | chpasswd").rc == 0
    yield node
    node.run("userdel -r lockprobe; faillock --user lockprobe --reset")


def login(node, password):
    """One password login through PAM's ``login`` service (common-auth, as su and sudo use)."""
    return node.run(f"echo '{password}' | pamtester login lockprobe authenticate")


def test_five_failed_logins_lock_the_account_even_against_the_right_password(probe_account):
    node = probe_account
    assert login(node, PASSWORD).rc == 0  # the account works
    for _ in range(5):
        assert login(node, "wrong").rc != 0
    locked = login(node, PASSWORD)
    assert locked.rc != 0 and "failed logins" in locked.stdout + locked.stderr
    records = node.check_output("faillock --user lockprobe").splitlines()
    assert len([line for line in records if line.rstrip().endswith(" V")]) == 5  # valid failure records
    node.run("faillock --user lockprobe --reset")  # what an admin does after checking
    assert login(node, PASSWORD).rc == 0


def test_four_failures_do_not_lock(probe_account):
    node = probe_account
    for _ in range(4):
        assert login(node, "wrong").rc != 0
    assert login(node, PASSWORD).rc == 0


def test_a_weak_password_is_refused_and_a_strong_one_taken(probe_account):
    node = probe_account
    weak = node.run("echo 'lockprobe:matkhau123' | chpasswd")
    assert weak.rc != 0 and "BAD PASSWORD" in weak.stdout + weak.stderr
    assert node.run(f"echo 'lockprobe:{PASSWORD}x' | chpasswd").rc == 0
