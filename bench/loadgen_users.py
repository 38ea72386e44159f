"""Locust users for bench/loadgen.py: each fetches the benchmark's static page as fast as it can.

- ``PageUser``: an ``HttpUser`` (python-requests), the client the portal's journeys use;
- ``FastPageUser``: a ``FastHttpUser`` (geventhttpclient), Locust's cheaper client.

The benchmark picks one by name on Locust's command line and gives the page's address with
``--host``. If ``LOADGEN_RUSAGE`` names a file, the Locust process writes there the CPU and wall
time it used between the test's start and its stop, so the benchmark can tell its start-up apart.

It also refreshes gevent's clock before Locust arms ``--run-time``: gevent's loop has not run
yet at that point, so its cached "now" is that of the hub's creation (during Locust's
imports), and the run would end early by however long the imports took (seconds on a busy
machine, and then a 3 s run makes no request at all).
"""

from __future__ import annotations

import json
import os
import resource
import time

import gevent
from locust import FastHttpUser, HttpUser, constant, events, task

PAGE = "/page.html"


class PageUser(HttpUser):
    """Requests the page in a loop with python-requests, no think time."""

    wait_time = constant(0)

    @task
    def page(self) -> None:
        self.client.get(PAGE)


class FastPageUser(FastHttpUser):
    """Requests the page in a loop with geventhttpclient, no think time."""

    wait_time = constant(0)

    @task
    def page(self) -> None:
        self.client.get(PAGE)


_started: dict[str, float] = {}


@events.init.add_listener
def _refresh_clock(**_) -> None:
    gevent.get_hub().loop.update_now()


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@events.test_start.add_listener
def _remember_start(**_) -> None:
    _started.update(cpu=_cpu_seconds(), wall=time.monotonic())


@events.test_stop.add_listener
def _write_run_cpu(**_) -> None:
    path = os.environ.get("LOADGEN_RUSAGE")
    if path and _started:
        with open(path, "w") as out:
            json.dump({"cpu_seconds": _cpu_seconds() - _started["cpu"],
                       "wall_seconds": time.monotonic() - _started["wall"]}, out)
