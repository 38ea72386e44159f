"""The lab province the deploy tests share: its hosts, and helpers to deploy and look at them."""

import re
import subprocess
import sys
from pathlib import Path

import testinfra

from lab import settings
from lab.ssh import run_on

PORTALOPS = str(Path(sys.executable).with_name("portalops"))
SIZE = ["--topology", "2020", "--districts", "1", "--communes", "1"]
HOSTS = ["portal-1", "db-1", "monitor-1", "huyen-thanh-hoa", "xa-thanh-hoa-01"]
ADDRESS = {"portal-1": "198.18.0.10", "db-1": "198.18.0.11", "monitor-1": "198.18.0.12",
           "huyen-thanh-hoa": "198.18.1.1", "xa-thanh-hoa-01": "198.18.2.1"}


def portalops(*args, timeout=1200):
    """Run the portalops command line; its completed process."""
    return subprocess.run([PORTALOPS, *args], capture_output=True, text=True, timeout=timeout)


def table(stdout: str) -> dict[str, list[str]]:
    """The rows of a per-host table portalops printed, by host name."""
    rows = {}
    for line in stdout.splitlines()[1:-1]:
        cells = re.split(r"\s{2,}", line.strip())
        rows[cells[0]] = cells[1:]
    return rows


def deploy(*args):
    """``portalops deploy`` on the lab; the process and its table."""
    result = portalops("deploy", str(settings.INVENTORY_FILE), *args)
    return result, table(result.stdout)


def host(name):
    """A testinfra host for a lab host, as root."""
    return testinfra.get_host(f"ssh://{name}?ssh_config={settings.SSH_CONFIG}", sudo=True)


def remote_sha(name, path):
    """sha256 of a file on a lab host."""
    return run_on(ADDRESS[name], f"sudo sha256sum {path}").stdout.split()[0]


def psql(name, query, database="postgres"):
    """One query as PostgreSQL's superuser on a lab host; its unaligned output."""
    return host(name).check_output(f"cd / && runuser -u postgres -- psql -d {database} -XtAc \"{query}\"")


# What a host is made of, compared before and after a deploy the guards refuse: accounts,
# sudoers, sshd's configuration, packages, firewall, and every file under /etc.
SNAPSHOT = ("getent passwd; getent group; getent shadow | cut -d: -f1,2; cat /etc/sudoers /etc/sudoers.d/* 2>/dev/null;"
            " sha256sum /etc/ssh/sshd_config; dpkg-query -W -f '${Package} ${Version} ${Status}\\n';"
            " nft list ruleset 2>/dev/null; find /etc -xdev -printf '%p %s %m %u %g %T@\\n' | sort")


def snapshot(name):
    """Everything SNAPSHOT reads on a lab host, as one text."""
    return host(name).check_output(SNAPSHOT)


# Filled by the session's ``converged`` fixture: name -> (result, rows, before, after).
FRESH_REFUSALS = {}


def refused_on_fresh_hosts():
    """On hosts no deploy has touched, one deploy per lock-out guard, each refused: the
    district host with its deploy login not in ``admins``, the commune host connecting from
    outside ``admin_networks``. Returns name -> (result, rows, snapshot before, snapshot after)."""
    found = {}
    for name, data in (("huyen-thanh-hoa", "admins=[]"), ("xa-thanh-hoa-01", 'admin_networks=["198.19.255.0/24"]')):
        before = snapshot(name)
        result, rows = deploy("--limit", name, "--data", data)
        found[name] = (result, rows, before, snapshot(name))
    return found


# What a host asks over HTTPS with its python3 (the monitor host has no curl): the status, or
# the kind of error (SSLError, URLError... when the TLS handshake is refused).
FETCH = """
import ssl, sys, urllib.request
context = ssl.create_default_context(cafile=sys.argv[2])
context.check_hostname = False
if len(sys.argv) > 3:
    context.load_cert_chain(sys.argv[3], sys.argv[4])
try:
    print(urllib.request.urlopen(sys.argv[1], context=context, timeout=10).status)
except Exception as error:
    print(type(error).__name__)
"""


def fetch_from(name, url, ca="/etc/prometheus/tls/ca.pem", cert=None, key=None):
    """What lab host ``name`` gets from ``url``, trusting ``ca``, as a client with ``cert``/``key``."""
    return host(name).check_output(f"python3 -c '{FETCH}' {url} {ca} {cert or ''} {key or ''}")
