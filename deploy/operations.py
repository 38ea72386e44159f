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

    The candidate is uploaded beside ``dest``, checked, then renamed over ``dest`` in
    one step, so a bad value never reaches the running service and no half-written
    file is ever read. Nothing is done when ``dest`` already holds ``content``.

    **Example:**

    .. code:: python

        validated_file(content=rendered, dest="/etc/ssh/sshd_config", check="sshd -t -f {path}")
    """
    data = content.encode()
    if host.get_fact(Sha1File, path=dest) == hashlib.sha1(data).hexdigest():
        host.noop(f"{dest} is up to date")
        return
    candidate = f"{dest}.portalops-new"
    quoted, target = shlex.quote(candidate), shlex.quote(dest)
    yield FileUploadCommand(StringIO(content), candidate)
    yield f"chown {user}:{group} {quoted} && chmod {mode} {quoted}"
    if in_place:
        old = shlex.quote(f"{dest}.portalops-old")
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
    stamp = host.get_fact(File, path=APT_STAMP)
    if stamp and stamp["mtime"]:
        now = datetime.fromtimestamp(host.get_fact(Date).timestamp(), timezone.utc).replace(tzinfo=None)
        if stamp["mtime"] > now - timedelta(seconds=cache_time):
            host.noop("apt lists are fresh")
            return
    yield (f"for try in $(seq {APT_REFRESH_TRIES}); do "
           f"timeout -k 5 {APT_REFRESH_SECONDS} apt-get update -q -o Acquire::Retries=3 && break; "
           f"[ $try = {APT_REFRESH_TRIES} ] && exit 1; sleep $try; done")
    yield f"mkdir -p {posixpath.dirname(APT_STAMP)} && touch {APT_STAMP}"
