# teddy-hil: every set-up step a fresh Debian machine needs, run as root (apt) or not.
# `make demo` runs the main job; `make test` runs every test. See README.md.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
APT_PACKAGES := espeak-ng libportaudio2 python3-venv
STAMP  := $(VENV)/.teddy-installed

.PHONY: help setup apt venv test lint unit pytest bench demo serve clean

help:
	@echo "make demo   - set up, run the scenario suite on the emulator against an embedded server"
	@echo "make test   - set up, lint (ruff, mypy --strict) and run every test"
	@echo "make bench  - print the server benchmarks (claim, first reply frame, idle memory)"
	@echo "make serve  - run teddy-server on 127.0.0.1:8000 with data in ./teddy-data"

setup: apt $(STAMP)

# apt only when something is missing, so offline re-runs stay fast; needs root.
apt:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "missing apt packages:$$missing (run make as root or install them)"; exit 1; fi; \
	  echo "apt-get install$$missing"; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

pytest: setup
	$(BIN)/pytest -n 2

test: lint pytest

bench: setup
	$(BIN)/python -m server.bench
	$(BIN)/python -m emulator.bench
	@t0=$$(date +%s%N); $(BIN)/teddy-hil run scenarios --target emulator >/dev/null; rc=$$?; \
	  t1=$$(date +%s%N); echo "scenario suite, teddy-hil run (sequential): $$(( (t1 - t0) / 1000000 )) ms wall (exit $$rc)"
	@t0=$$(date +%s%N); $(BIN)/pytest scenarios -n 2 -q -p no:cacheprovider >/dev/null; rc=$$?; \
	  t1=$$(date +%s%N); echo "scenario suite, pytest -n 2: $$(( (t1 - t0) / 1000000 )) ms wall (exit $$rc)"

demo: setup
	$(BIN)/teddy-hil run scenarios --target emulator --junit artifacts/junit.xml

serve: setup
	$(BIN)/teddy-server serve --data teddy-data

clean:
	rm -rf $(VENV) teddy_hil.egg-info .mypy_cache .ruff_cache .pytest_cache
