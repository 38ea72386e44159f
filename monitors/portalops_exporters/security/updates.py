"""Pending security updates and whether the host waits for a reboot.

Counting pending updates runs ``apt-get -s upgrade`` (a second or more, and it reads
every package list), too slow for every scrape: a child process runs it at a scrape
when the last count is older than ``refresh_seconds``, at low priority, and later
scrapes report its count once it has finished. No thread: the scrape only polls the
child. Until the first count is in, ``updates_pending`` is absent.
"""

from __future__ import annotations

import logging
import os
import subprocess
import tempfile
import time
from typing import Callable, Iterable

from prometheus_client.core import GaugeMetricFamily

from portalops_exporters.security.events import PREFIX

log = logging.getLogger("portalops_exporters")

# Security updates waiting, by package name. The deploy (deploy/facts.py) reads them the same way
# before it applies them (base-09), importing this.
SECURITY_UPGRADES = ("apt-get -s -q -o Debug::NoLocking=1 upgrade 2>/dev/null "
                     "| awk '/^Inst / && /-security/ {print $2}' | sort -u")


class PendingUpdates:
    """Security updates waiting (refreshed in a child process) and ``/run/reboot-required``.

    + command: a shell command printing one package a line (None: not counted)
    + refresh_seconds: how old a count may get before it is taken again
    + reboot_required_file: the file Debian's packages create when a reboot is needed
    """

    def __init__(self, command: str | None = SECURITY_UPGRADES, refresh_seconds: float = 3600,
                 reboot_required_file: str = "/run/reboot-required", clock: Callable[[], float] = time.time):
        self.command = command
        self.refresh_seconds = refresh_seconds
        self.reboot_required_file = reboot_required_file
        self.clock = clock
        self.pending: int | None = None
        self.checked = 0.0  # when the count in ``pending`` was taken
        self._child: subprocess.Popen | None = None
        self._output = None
        self._started = 0.0  # when the last count was started (0: never)

    def collect(self) -> Iterable[GaugeMetricFamily]:
        """The last count of pending updates, when it was taken, and whether a reboot is required."""
        self._poll()
        if self.command and self._child is None and (self._started == 0.0 or self.clock() - self._started >= self.refresh_seconds):
            self._start()
        if self.pending is not None:
            pending = GaugeMetricFamily(
                f"{PREFIX}_updates_pending",
                f"Packages with an update waiting from a security suite; counted by apt-get -s upgrade in a "
                f"child process at most every {self.refresh_seconds:g} s (slow), see the checked timestamp.")
            pending.add_metric([], self.pending)
            yield pending
        if self.command:
            checked = GaugeMetricFamily(f"{PREFIX}_updates_checked_timestamp_seconds",
                                        "When the pending security updates were last counted (0: not yet).")
            checked.add_metric([], self.checked)
            yield checked
        reboot = GaugeMetricFamily(f"{PREFIX}_reboot_required",
                                   f"1 if {self.reboot_required_file} exists (an update waits for a reboot).")
        reboot.add_metric([], 1.0 if os.path.exists(self.reboot_required_file) else 0.0)
        yield reboot

    def _start(self) -> None:
        self._output = tempfile.TemporaryFile()
        self._started = self.clock()
        try:
            self._child = subprocess.Popen(["nice", "-n", "10", "sh", "-c", self.command], stdout=self._output,
                                           stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        except OSError as error:
            log.error("pending updates: %s", error)
            self._output.close()
            self._child = None  # tried: again after refresh_seconds

    def _poll(self) -> None:
        if self._child is None or self._child.poll() is None:
            return
        returncode, self._child = self._child.returncode, None
        self._output.seek(0)
        packages = [line for line in self._output.read().decode("utf-8", "replace").splitlines() if line.strip()]
        self._output.close()
        if returncode == 0:
            self.pending, self.checked = len(packages), self._started
        else:
            log.error("pending updates: %r exited with %d", self.command, returncode)
