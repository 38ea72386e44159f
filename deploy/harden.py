"""Hardening only, no role services: ``pyinfra INVENTORY deploy/harden.py --config deploy/config.py``.

What bench/deploy.py measures against Ansible; site.py runs the same and then the roles.
"""

from deploy.hardening import baselines, harden

harden()
baselines()
