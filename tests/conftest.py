"""Shared test set-up: lab tests run only as root, and say so when skipped."""

import os

import pytest


def pytest_collection_modifyitems(config, items):
    if os.geteuid() == 0:
        return
    skip = pytest.mark.skip(reason="lab tests boot real hosts and need root (run `make test` as root)")
    for item in items:
        if "lab" in item.keywords:
            item.add_marker(skip)
