"""Operations pyinfra lacks: a config file that is only put in place once its own
program accepts it, and a guard that stops a host before anything changes."""

from __future__ import annotations

import hashlib
import posixpath
import shlex
from datetime import datetime, timedelta, timezone
from io import StringIO

from pyinfra import host
from pyinfra.api import FileUploadCommand, operation
from pyinfra.facts.files import File, Sha1File
from pyinfra.facts.server import Date

from deploy.facts import SECURITY_UPGRADES, SecurityUpgrades


# Where in-place candidates and the files they replace wait while they are checked.
STAGING = "/var/lib/portalops/staging"


@operation()
def validated_file(content: str, dest: str, check: str, mode: str = "644", user: str = "root",
                   group: str = "root", in_place: bool = False):
    """
    Write ``content`` to ``dest`` only if ``check`` accepts it; otherwise keep the old file and fail.

    + content: the whole new file
    + dest: remote path
    + check: shell command that exits 0 for a good file; ``{path}`` is the candidate's path
    + mode, user, group: the file's permissions and owner
    + in_place: the check reads the file where it will live (``nginx -t`` reads every
      included file); the old file is put back if the check fails

    The candidate is uploaded beside ``dest`` (in place: under ``STAGING``), checked, then
    renamed over ``dest`` in one step, so a bad value never reaches the running service and no half-written
    file is ever read. Nothing is done when ``dest`` already holds ``content``.

    **Example:**

    .. code:: python

        validated_file(content=rendered, dest="/etc/ssh/sshd_config", check="sshd -t -f {path}")
    """
    data = content.encode()
    if host.get_fact(Sha1File, path=dest) == hashlib.sha1(data).hexdigest():
        host.noop(f"{dest} is up to date")
        return
    if in_place:
        # The candidate and the old copy wait outside dest's directory, which the checked
        # program may read whole (nginx includes sites-enabled/*).
        staging = posixpath.join(STAGING, dest.lstrip("/"))
        candidate, old = f"{staging}.new", shlex.quote(f"{staging}.old")
        yield f"mkdir -p {shlex.quote(posixpath.dirname(staging))}"
    else:
        candidate = f"{dest}.portalops-new"
    quoted, target = shlex.quote(candidate), shlex.quote(dest)
    yield FileUploadCommand(StringIO(content), candidate)
    yield f"chown {user}:{group} {quoted} && chmod {mode} {quoted}"
    if in_place:
        yield (f"if [ -e {target} ]; then cp -p {target} {old}; else rm -f {old}; fi; mv -f {quoted} {target}; "
               f"if {check.format(path=target)}; then rm -f {old}; "
               f"else if [ -e {old} ]; then mv -f {old} {target}; else rm -f {target}; fi; "
               f"echo 'refused: {dest} not changed, the check failed' >&2; exit 1; fi")
        return
    yield (f"if {check.format(path=quoted)}; then mv -f {quoted} {target}; "
           f"else rm -f {quoted}; echo 'refused: {dest} not changed, the check failed' >&2; exit 1; fi")


@operation()
def refuse(reason: str):
    """
    Fail this host now, before any change, with ``reason`` (a lock-out guard).

    + reason: what is wrong and how to fix it

    **Example:**

    .. code:: python

        refuse(reason="the deploy connects as 'root', which is not an admin")
    """
    yield f"echo {shlex.quote('refused: ' + reason)} >&2; exit 1"


# apt-get update is bounded and retried: a commune's link (or a cache answering
# several hosts at once) can leave one run hanging; a later one succeeds.
APT_REFRESH_SECONDS = 120
APT_REFRESH_TRIES = 3
APT_STAMP = "/var/lib/apt/periodic/update-success-stamp"


def apt_lists_fresh(cache_time: int) -> bool:
    """True if apt's lists were refreshed less than ``cache_time`` seconds ago."""
    stamp = host.get_fact(File, path=APT_STAMP)
    if not (stamp and stamp["mtime"]):
        return False
    now = datetime.fromtimestamp(host.get_fact(Date).timestamp(), timezone.utc).replace(tzinfo=None)
    return stamp["mtime"] > now - timedelta(seconds=cache_time)


@operation()
def apt_refresh(cache_time: int = 3600):
    """
    Refresh apt's package lists unless they are younger than ``cache_time`` seconds.

    + cache_time: lists younger than this are fresh enough

    Each try is killed after APT_REFRESH_SECONDS and retried up to APT_REFRESH_TRIES times.

    **Example:**

    .. code:: python

        apt_refresh(cache_time=3600)
    """
    if apt_lists_fresh(cache_time):
        host.noop("apt lists are fresh")
        return
    yield (f"for try in $(seq {APT_REFRESH_TRIES}); do "
           f"timeout -k 5 {APT_REFRESH_SECONDS} apt-get update -q -o Acquire::Retries=3 && break; "
           f"[ $try = {APT_REFRESH_TRIES} ] && exit 1; sleep $try; done")
    yield f"mkdir -p {posixpath.dirname(APT_STAMP)} && touch {APT_STAMP}"


@operation()
def security_upgrades(cache_time: int = 3600):
    """
    Upgrade the packages that have an update from a security origin waiting.

    + cache_time: the ``cache_time`` of the ``apt_refresh`` run just before this one

    The packages are chosen when the command runs (``apt-get -s upgrade``, lines from a
    ``-security`` suite, as Lynis's PKGS-7392 reads them), so an update that refresh just
    brought in is included. Nothing runs when the lists are fresh and show no security
    update, so a second deploy changes nothing; stale lists mean the refresh runs, and
    this then runs too. Configuration files the admin changed are kept; a dpkg lock held
    by unattended-upgrades is waited for.

    **Example:**

    .. code:: python

        security_upgrades(cache_time=3600)
    """
    if apt_lists_fresh(cache_time) and not host.get_fact(SecurityUpgrades):
        host.noop("no security update waiting")
        return
    yield (f"pkgs=$({SECURITY_UPGRADES}); [ -z \"$pkgs\" ] || "
           "env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --only-upgrade -o DPkg::Lock::Timeout=300 "
           "-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold $pkgs")
