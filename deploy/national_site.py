"""The lab's national-service stand-ins on their own host (lab/national.py):
``pyinfra LAB/national.py deploy/national_site.py --config deploy/config.py``, run by
``portalops lab up``. Never part of a province's deploy (deploy/site.py)."""

from deploy.standins import standins

standins()
