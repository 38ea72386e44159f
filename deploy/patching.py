"""Patching beyond the daily unattended run: security updates applied at deploy, upgrades
that say what changed and what still runs old code, installed versions visible."""

from __future__ import annotations

from io import StringIO

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import apt, files

from deploy import defaults
from deploy.controls import in_container, named
from deploy.operations import security_upgrades, validated_file

# apt-listchanges: the news (NEWS.Debian) of an upgrade printed into apt's own output, so
# it lands in the deploy's log and unattended-upgrades' log; nothing waits for a reader.
LISTCHANGES = """# Written by portalops (deploy/patching.py): [base-10]
[apt]
frontend=text
which=news
confirm=false
headers=true
email_address=
"""


def needrestart_conf(mode: str, container: bool) -> str:
    """needrestart's drop-in (Perl): how it treats services left on old libraries."""
    text = f"# Written by portalops (deploy/patching.py): [base-10]\n$nrconf{{restart}} = '{mode}';\n"
    if container:
        text += "# A container runs the host's kernel: no reboot hint for it.\n$nrconf{kernelhints} = 0;\n"
    return text


@deploy("Patching", data_defaults=defaults.ALL)
def patching():
    """Security updates now (base-09), upgrade news and restart hints (base-10), versions (base-11)."""
    data = host.data
    if data.security_upgrades_on_deploy:
        security_upgrades(name=named("base-09"), cache_time=3600)
    apt.packages(name=named("base-10") + ": packages", packages=["apt-listchanges", "needrestart"],
                 no_recommends=True)
    files.put(name=named("base-10") + ": apt-listchanges", dest="/etc/apt/listchanges.conf.d/portalops.conf",
              src=StringIO(LISTCHANGES))
    validated_file(name=named("base-10") + ": needrestart", dest="/etc/needrestart/conf.d/portalops.conf",
                   content=needrestart_conf(data.needrestart_mode, in_container()), check="perl -c {path} 2>/dev/null")
    apt.packages(name=named("base-11"), packages=["apt-show-versions"], no_recommends=True)
