"""The province in a box: real Debian 12 hosts booted with systemd-nspawn on this machine."""


class LabError(RuntimeError):
    """Something stops the lab; the message says what and how to fix it."""
