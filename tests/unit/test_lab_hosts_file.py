"""The lab's /etc/hosts block: rewritten by every ``lab up``, leaving what deploys added alone."""

from lab.host import HOSTS_BEGIN, HOSTS_END, _outside_block


def test_lines_outside_the_labs_block_are_kept():
    lines = [HOSTS_BEGIN, "198.18.0.11 db-1", HOSTS_END, "# BEGIN portalops backup peers",
             "198.18.0.12\tmonitor-1", "# END portalops backup peers"]
    assert _outside_block(lines) == lines[3:]


def test_a_file_without_the_block_is_replaced_whole():
    assert _outside_block(["127.0.0.1 localhost", "198.18.0.11 db-1"]) == []
