# Two commands do all set-up on a fresh Debian 12 machine, as root:
#   make demo   bring up the built-in lab, deploy and harden it, audit every host, show it monitored,
#               and end with a short peak-hour load test and its verdict
#   make test   run the whole test suite (unit tests, then lab tests)
# Both install what they need and are safe to run twice.

VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
# age encrypts the escrow of the controller's secrets (portalops secrets export/import, its tests).
DEBIAN_PACKAGES := debootstrap systemd-container apt-cacher-ng iproute2 nftables \
	openssh-client python3-venv util-linux mount postgresql testssl.sh \
	prometheus prometheus-alertmanager systemd-journal-remote chromium fonts-dejavu-core age
# What the benchmarks compare against (make bench installs them).
BENCH_PACKAGES := prometheus-blackbox-exporter mtail nginx-light wrk

.PHONY: setup debian-packages bench-packages demo test test-unit test-lab bench lab-down

setup: debian-packages $(VENV)/.installed

PACKAGES = $(DEBIAN_PACKAGES)
bench-packages: PACKAGES = $(DEBIAN_PACKAGES) $(BENCH_PACKAGES)
bench-packages: debian-packages

# Installs only what is missing, so a second run asks no mirror for anything.
debian-packages:
	@missing=$$(for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages: $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

$(VENV)/.installed: pyproject.toml portal/pyproject.toml monitors/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]' -e ./portal -e ./monitors
	touch $@

demo: setup
	$(BIN)/portalops lab up
	$(BIN)/portalops deploy $$($(BIN)/portalops lab inventory)
	$(BIN)/portalops audit $$($(BIN)/portalops lab inventory)
	$(BIN)/portalops monitor $$($(BIN)/portalops lab inventory)
	$(BIN)/portalops loadtest $$($(BIN)/portalops lab inventory) --profile peak --duration 2m

test: setup
	$(BIN)/pytest

test-unit: setup
	$(BIN)/pytest tests/unit

test-lab: setup
	$(BIN)/pytest -m lab

bench: bench-packages setup
	$(BIN)/python bench/lab.py

lab-down: setup
	$(BIN)/portalops lab down
