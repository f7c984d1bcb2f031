# CommandPost: `make run` serves a meeting, `make test` installs what tests need and runs them all.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# Debian packages the tests drive for real: Redis, Chromium, media tools.
TEST_DEBS := redis-server chromium ffmpeg sox espeak-ng fonts-wqy-microhei coturn \
	gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good \
	gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav \
	gir1.2-gst-rtsp-server-1.0 python3-gi gcc python3-dev
# fonts-wqy-microhei: Chinese names on composite recordings (recorder.composite_font).
RUN_DEBS := redis-server fonts-wqy-microhei
# `make bench` measures CommandPost beside Janus VideoRoom (Debian package janus).
BENCH_DEBS := janus linux-perf
PYTEST_ARGS ?=
BENCH_ARGS ?=
# e.g. SIDECAR_BENCH_ARGS="--quick --only recorder_cpu,dispatch_bench"
SIDECAR_BENCH_ARGS ?=

.PHONY: run test bench install install-dev system-deps system-deps-run clean

$(VENV)/bin/activate:
	@$(PYTHON) -m venv $(VENV) || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv && $(PYTHON) -m venv $(VENV); \
	  else echo "python3 -m venv failed: install python3-venv" >&2; exit 1; fi; }
	@$(PIP) install -q --upgrade pip

# sfu/_fastsend.c is compiled by the install (optional: skipped without a compiler).
$(VENV)/.installed: $(VENV)/bin/activate pyproject.toml sfu/_fastsend.c
	$(PIP) install -q -e .
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PIP) install -q -e '.[dev]'
	@touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Installs missing Debian packages when run as root; otherwise says what is missing.
define ensure_debs
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "apt-get install:$$missing"; \
	    apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null; \
	  else echo "missing Debian packages:$$missing (run as root or: sudo apt-get install$$missing)" >&2; exit 1; fi; \
	fi
endef

system-deps-run:
	$(call ensure_debs,$(RUN_DEBS))

system-deps:
	$(call ensure_debs,$(TEST_DEBS))

run: system-deps-run install
	$(VENV)/bin/commandpost serve --config config.toml --demo-room

test: system-deps install-dev
	$(PY) -m pytest $(PYTEST_ARGS)

bench: system-deps install-dev
	$(call ensure_debs,$(BENCH_DEBS))
	$(PY) -m bench $(BENCH_ARGS)
	$(PY) -m bench.sidecars $(SIDECAR_BENCH_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
