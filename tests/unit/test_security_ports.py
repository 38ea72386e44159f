"""Listening-port drift with real listening sockets."""

import socket

from portalops_exporters.security.ports import PortDrift, listening_ports


def samples(drift):
    return {(family.name, tuple(sample.labels.items())): sample.value
            for family in drift.collect() for sample in family.samples}


def listener(address="127.0.0.1"):
    server = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM)
    server.bind((address, 0))
    server.listen()
    return server


def test_expected_port_listening_is_1_and_one_not_listening_is_0():
    with listener() as server:
        port = server.getsockname()[1]
        closed = listener()
        free = closed.getsockname()[1]
        closed.close()  # a port nothing listens on any more
        drift = PortDrift([port, free], ignore_loopback=False)
        found = samples(drift)
    assert found[("portalops_security_expected_port_listening", (("port", str(port)),))] == 1
    assert found[("portalops_security_expected_port_listening", (("port", str(free)),))] == 0


def test_a_new_listener_not_in_the_role_counts_as_unexpected():
    before = listening_ports(ignore_loopback=False)
    with listener() as server:
        drift = PortDrift(sorted(before), ignore_loopback=False)
        unexpected = samples(drift)[("portalops_security_listeners_unexpected", ())]
        assert server.getsockname()[1] in listening_ports(ignore_loopback=False)
    assert unexpected >= 1
    assert samples(PortDrift(sorted(before), ignore_loopback=False))[
        ("portalops_security_listeners_unexpected", ())] == unexpected - 1


def test_loopback_only_listener_is_neither_unexpected_nor_listening_by_default():
    with listener("127.0.0.1") as server:
        port = server.getsockname()[1]
        assert port not in listening_ports(ignore_loopback=True)
        assert port in listening_ports(ignore_loopback=False)
        found = samples(PortDrift([port]))
    assert found[("portalops_security_expected_port_listening", (("port", str(port)),))] == 0


def test_expected_ports_are_the_only_port_labels():
    drift = PortDrift([22, "9100", 22], listening=lambda ignore: {22, 8000, 41234})
    found = samples(drift)
    assert found == {("portalops_security_listeners_unexpected", ()): 2,
                     ("portalops_security_expected_port_listening", (("port", "22"),)): 1,
                     ("portalops_security_expected_port_listening", (("port", "9100"),)): 0}
