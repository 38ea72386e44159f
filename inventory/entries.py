"""The hosts of any pyinfra inventory file as pyinfra itself loads them: the units table's
inventories, the lab's, or one a province wrote by hand.

The audit, the load tests and ``portalops monitor`` read an inventory this way, so that a
host's data (its roles, unit, address and overrides) is what the deploy sees too.
"""

from __future__ import annotations

import json
import subprocess
import sys
from fnmatch import fnmatch
from pathlib import Path

PYINFRA = str(Path(sys.executable).with_name("pyinfra"))


def inventory_entries(inventory: str, limit: list[str] = ()) -> list[dict]:
    """The hosts pyinfra would target (by name, group or glob in ``limit``), in inventory order,
    each as pyinfra sees it: ``name``, ``groups`` and ``data``.

    + inventory: a pyinfra inventory file
    + limit: host or group names (globs allowed) to restrict to

    Example: ``inventory_entries("province.py", ["commune"])``
    """
    result = subprocess.run([PYINFRA, inventory, "debug-inventory", "--json"], capture_output=True, text=True,
                            cwd="/")
    if result.returncode != 0:
        raise RuntimeError(f"pyinfra cannot load {inventory}: {result.stderr.strip()[-1500:]}")
    hosts = json.loads(result.stdout)
    return [h for h in hosts
            if not limit or any(fnmatch(name, pattern) for name in [h["name"], *h["groups"]] for pattern in limit)]


def inventory_hosts(inventory: str, limit: list[str] = ()) -> list[str]:
    """The names of the hosts pyinfra would target, in inventory order."""
    return [h["name"] for h in inventory_entries(inventory, limit)]
