# Two commands are the contract: `make run` and `make test` (see README).
# Both install what they need on a fresh Debian 12 machine (run as root): Debian packages, then .venv.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := build

# Debian packages the appliance and its tests need. Kept in one list so a second run can check
# them with dpkg-query and skip apt-get entirely (a quick, idempotent re-run).
APT_PACKAGES := python3-venv python3-dev build-essential libcups2-dev \
	cups cups-client printer-driver-cups-pdf poppler-utils zbar-tools \
	xvfb xauth libgl1-mesa-dri libegl1 libgles2 libmtdev1 libsdl2-2.0-0 xclip \
	fonts-dejavu-core espeak-ng sox alsa-utils \
	chromium chromium-driver postgresql shellcheck systemd

.PHONY: run test bench deps venv screenshots voices image-check clean

deps: $(STAMP)/apt.done
$(STAMP)/apt.done: Makefile
	@mkdir -p $(STAMP)
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "missing Debian packages (run as root, or install them): $$missing" >&2; exit 1; fi; \
	  echo "apt-get install:" $$missing; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@touch $@

venv: $(STAMP)/venv.done
$(STAMP)/venv.done: setup.py $(STAMP)/apt.done
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	@touch $@

run: venv
	$(VENV)/bin/tdp demo

test: venv
	$(PY) -m pytest -q -p no:cacheprovider tests --ignore=tests/benchmarks

bench: venv
	$(PY) -m pytest -q -p no:cacheprovider tests/benchmarks -s

clean:
	rm -rf $(VENV) $(STAMP)

# Slow (several minutes; root and the Debian mirror): the image's install steps and first boot
# in a debootstrap'd Bookworm root. Not part of `make test`. See images/image-check.sh.
image-check:
	@command -v debootstrap >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null; }
	bash images/image-check.sh

# Pre-render every fixed read-aloud prompt into the voice cache, so "Nghe" plays at once (docs/voice.md).
voices: venv
	$(VENV)/bin/tdp voices render

# A screenshot of every screen for README (docs/screens/), from the demo ward.
screenshots: venv
	rm -rf build/screens
	$(VENV)/bin/tdp demo --data build/screens --seconds 12 >/dev/null
	mkdir -p docs/screens
	cp build/screens/screenshots/*.png docs/screens/
