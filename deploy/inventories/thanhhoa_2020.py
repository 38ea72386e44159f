"""Thanh Hóa, 2020 topology (see inventory/thanhhoa.py), as a pyinfra inventory.

Use: pyinfra deploy/inventories/thanhhoa_2020.py exec -- uptime
"""

from inventory.groups import pyinfra_groups
from inventory.thanhhoa import topology

globals().update(pyinfra_groups(topology("2020")))
