"""Every tunable of the lab, in one place.

The state directory and the cache live outside the work tree: the state holds
the operator's private key (mode 0600) and the hosts' disks; the cache holds the
base image and the Debian packages, so that a second ``lab up`` downloads nothing.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

from inventory.thanhhoa import NETWORK

# Where running hosts, the lab's units table, inventory and operator key live.
STATE_DIR = Path(os.environ.get("PORTALOPS_LAB_DIR", "/var/lib/portalops/lab"))
# Where the base image and apt-cacher-ng's packages are kept between labs.
CACHE_DIR = Path(os.environ.get("PORTALOPS_CACHE_DIR", "/var/cache/portalops"))

# The lab network: 198.18.0.0/15 is set aside for network tests (RFC 2544); the
# controller takes the first address on a bridge, hosts take theirs from the units table.
BRIDGE = "po-lab0"
LAB_NETWORK = NETWORK
CONTROLLER_ADDRESS = str(LAB_NETWORK[1])
# Addresses the controller's load tests send from, one per simulated user, as citizens come
# from many addresses (loadtests/sources.py); routed to the controller itself, outside the
# range the units table gives hosts (198.18.0.x to 198.18.4.x).
LOAD_SOURCES = ipaddress.ip_network("198.18.250.0/24")

# apt-cacher-ng on the controller: hosts fetch packages through it, never directly.
# Not 3142, where a system apt-cacher-ng listens once the Debian package is installed.
APT_CACHE_PORT = 3143
APT_CACHE_USER = "apt-cacher-ng"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
DEBIAN_SECURITY = "http://deb.debian.org/debian-security"
SUITE = "bookworm"

# What every host has before any deploy: systemd to boot, sshd to be reached,
# python3 for tools that want it, iproute2 to see the network, sudo for admins.
BASE_PACKAGES = ("systemd", "systemd-sysv", "dbus", "openssh-server", "python3", "iproute2", "sudo")
# Bump when the image recipe in lab/image.py changes, so cached images are rebuilt.
IMAGE_RECIPE = 2

# The lab's stand-ins for the national services (SSO, payment platform, national portal): an
# outside party's host of the lab's own, never a host of the province's units table, on an
# address outside the range the units table gives hosts (lab/national.py).
NATIONAL_HOST = "national-services"
NATIONAL_ADDRESS = str(LAB_NETWORK[5 * 256 + 1])
NATIONAL_PORT = 8900

# Default lab sizes per topology: (districts, communes).
DEFAULT_SIZE = {"2020": (2, 3), "2025": (0, 5)}
DEFAULT_TOPOLOGY = "2025"

# How long a booting host may take before SSH answers.
BOOT_TIMEOUT_SECONDS = 120
# How long a host may take to power off before it is killed.
STOP_TIMEOUT_SECONDS = 20
# Controller limits a lab of a few hundred hosts needs (each host takes about
# five inotify instances); see lab/kernel_limits.py.
KERNEL_LIMITS = {"fs.inotify.max_user_instances": 4096, "fs.inotify.max_user_watches": 1048576}

# The operator logs in to lab hosts as this admin account, with the lab key, and
# becomes root with sudo: what an installer or cloud-init leaves on a new server.
# The deploy then refuses root logins altogether.
SSH_USER = "portalops"


# Inside the state directory.
HOSTS_DIR = STATE_DIR / "hosts"
UNITS_FILE = STATE_DIR / "units.csv"
INVENTORY_FILE = STATE_DIR / "inventory.py"
NATIONAL_INVENTORY_FILE = STATE_DIR / "national.py"
SSH_DIR = STATE_DIR / "ssh"
OPERATOR_KEY = SSH_DIR / "id_ed25519"
KNOWN_HOSTS = SSH_DIR / "known_hosts"
SSH_CONFIG = SSH_DIR / "config"
LOCK_FILE = STATE_DIR / "lock"
SAVED_LIMITS = STATE_DIR / "kernel-limits.json"
# Inside the cache directory.
IMAGES_DIR = CACHE_DIR / "images"
APT_CACHE_DIR = CACHE_DIR / "apt"
# apt-cacher-ng runs as its own user, which cannot enter the (0700) state directory.
APT_CACHE_CONF = CACHE_DIR / "apt-cacher-ng"
