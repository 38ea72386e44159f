"""The lab's national services: the SSO, payment platform and national portal stand-ins.

The province's portals call three services that are not the province's: the national SSO,
the national payment platform and the national portal's sync API. A production inventory
names their addresses (``national_sso_url``, ``national_payment_url``, ``national_sync_url``);
the lab boots a host of its own for stand-ins of them, outside the units table (it is not one
of the province's hosts: nothing deploys, hardens, audits or monitors it as one), and points
the lab inventory's addresses at it. ``portalops lab up`` deploys the stand-ins on it with
``deploy/national_site.py``, from its own small inventory (this module writes it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from inventory.units import Host
from lab import settings

TEMPLATE = '''"""pyinfra inventory of the lab's national-service stand-ins, written by portalops lab up.

Not a province host: see lab/national.py. Use: pyinfra {path} exec -- uptime
"""

from inventory.units import load_units

national_services = ([({name!r}, {{"ssh_hostname": {address!r}, "standins_port": {port},
                         # every unit of the province is a merchant of the payment platform
                         "merchant_units": sorted({{h.unit_code for h in load_units({units!r})}})}})],
                     {shared!r})
'''


def national_host() -> Host:
    """The stand-ins' lab host, as the lab boots it (its fields beyond name and address are
    only what ``lab status`` shows)."""
    return Host(settings.NATIONAL_HOST, "", "national services (lab stand-ins)", "outside", "",
                settings.NATIONAL_ADDRESS, ())


def base_url() -> str:
    """Where the stand-ins answer."""
    return f"http://{settings.NATIONAL_ADDRESS}:{settings.NATIONAL_PORT}"


def province_data() -> dict[str, Any]:
    """What the lab's province inventory says about the national services: their addresses
    (the stand-ins'; the payment platform calls back from there), and the journey probe on,
    whose test citizen the SSO stand-in knows."""
    return {"national_sso_url": f"{base_url()}/sso", "national_payment_url": f"{base_url()}/gateway",
            "national_sync_url": f"{base_url()}/national", "payment_platform_addresses": [settings.NATIONAL_ADDRESS],
            "journey_probe": True}


def write_national_inventory(shared: dict[str, Any], path: Path = settings.NATIONAL_INVENTORY_FILE) -> Path:
    """Write the stand-ins' inventory (how pyinfra reaches their host: ``shared``)."""
    path.write_text(TEMPLATE.format(path=str(path), name=settings.NATIONAL_HOST, address=settings.NATIONAL_ADDRESS,
                                    port=settings.NATIONAL_PORT, units=str(settings.UNITS_FILE), shared=shared))
    return path
