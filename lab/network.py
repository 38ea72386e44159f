"""The lab's bridge: hosts reach each other and the controller, nothing beyond.

Hosts get no default route, and a firewall table drops anything the bridge would
forward off the machine, so a lab host can reach only the lab.
"""

from __future__ import annotations

from pathlib import Path

from lab import settings
from lab.process import run

NFT_TABLE = "portalops_lab"


def bridge_exists() -> bool:
    """True if the lab bridge is present."""
    return Path(f"/sys/class/net/{settings.BRIDGE}").exists()


def ensure_bridge() -> None:
    """Create the lab bridge with the controller's address, and the firewall table."""
    if not bridge_exists():
        run("ip", "link", "add", settings.BRIDGE, "type", "bridge")
    prefix = settings.LAB_NETWORK.prefixlen
    addresses = run("ip", "-o", "addr", "show", "dev", settings.BRIDGE).stdout
    if f" {settings.CONTROLLER_ADDRESS}/{prefix} " not in addresses:
        run("ip", "addr", "add", f"{settings.CONTROLLER_ADDRESS}/{prefix}", "dev", settings.BRIDGE)
    run("ip", "link", "set", settings.BRIDGE, "up")
    # The load tests' source addresses: all local at once (a local route, no address each);
    # the controller answers the hosts' ARP for them on the bridge.
    run("ip", "route", "replace", "local", str(settings.LOAD_SOURCES), "dev", "lo")
    run("nft", "-f", "-", input=f"""
table inet {NFT_TABLE}
delete table inet {NFT_TABLE}
table inet {NFT_TABLE} {{
    chain forward {{
        type filter hook forward priority filter; policy accept;
        iifname "{settings.BRIDGE}" oifname != "{settings.BRIDGE}" drop
        oifname "{settings.BRIDGE}" iifname != "{settings.BRIDGE}" drop
    }}
}}
""")


def remove_bridge() -> None:
    """Remove the bridge and the firewall table (if present)."""
    if bridge_exists():
        run("ip", "link", "del", settings.BRIDGE)
    run("ip", "route", "del", "local", str(settings.LOAD_SOURCES), "dev", "lo", check=False)
    if nft_table_exists():
        run("nft", "delete", "table", "inet", NFT_TABLE)


def nft_table_exists() -> bool:
    """True if the lab's firewall table is loaded."""
    return run("nft", "list", "table", "inet", NFT_TABLE, check=False).returncode == 0


def host_links() -> list[str]:
    """The host-side ends of the hosts' virtual links (systemd-nspawn names them ``vb-<host>``),
    attached to the bridge or not."""
    return sorted(p.name for p in Path("/sys/class/net").iterdir() if p.name.startswith("vb-"))


def remove_host_links() -> None:
    """Delete host links a stopped host left behind. The kernel removes them only when it has
    finished tearing down the host's network namespace, which under load can take longer than
    the next ``up`` waits: that ``up`` then fails with "File exists" on the host's link."""
    for link in host_links():
        run("ip", "link", "del", link, check=False)

