"""Writes pyinfra inventory files that read a units table when pyinfra loads them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

TEMPLATE = '''"""pyinfra inventory written by portalops from {units}.

Edit the units table, not this file: pyinfra reads the table each time it loads
this inventory. Use: pyinfra {path} exec -- uptime
"""

from inventory.groups import pyinfra_groups
from inventory.units import load_units

globals().update(pyinfra_groups(load_units({units!r}), {shared!r}))
'''


def write_inventory_file(units: Path, path: Path, shared: dict[str, Any]) -> Path:
    """Write a pyinfra inventory file at ``path`` over the units table at ``units``.

    + units: the units table (CSV) the inventory reads
    + path: where to write the inventory file
    + shared: data all hosts share (``ssh_user``, ``ssh_key``, ``admins``...)

    Example: ``write_inventory_file(Path("province.csv"), Path("province.py"), {"ssh_user": "admin"})``
    """
    path.write_text(TEMPLATE.format(units=str(units), path=str(path), shared=shared))
    return path
