# teddy-hil: every set-up step a fresh Debian machine needs, run as root (apt) or not.
# `make demo` runs the main job; `make test` runs every test. See README.md.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
APT_PACKAGES := espeak-ng libportaudio2 python3-venv build-essential cmake pkg-config clang \
                libmbedtls-dev libcjson-dev libwebsockets-dev libcmocka-dev libcurl4-openssl-dev
STAMP  := $(VENV)/.teddy-installed
FW_BUILD := build/host
FW_ASAN  := build/host-asan
# The host firmware the scenario tiers run: the sanitizer build, so any ASan/UBSan report
# fails the scenario that caused it (hil/targets/firmware_host.py).
FW_HOST_BIN := $(FW_ASAN)/app/teddy-fw-host

.PHONY: help setup apt venv test lint unit pytest bench demo serve clean firmware \
        firmware-asan ctest fw-scenarios fuzz model

help:
	@echo "make demo   - set up, run the scenario suite on the emulator against an embedded server"
	@echo "make test   - set up, lint (ruff, mypy --strict, import layers, generated files) and run every test"
	@echo "make bench  - print the benchmarks (server, body refusal memory, emulator, serial, wire tap latency, audio analysis, suite time)"
	@echo "make serve  - run teddy-server on 127.0.0.1:8000 with data in ./teddy-data"
	@echo "make firmware - build teddy-fw-host (the firmware's portable core on Linux) into $(FW_BUILD)"
	@echo "make model  - regenerate the device vocabulary (Python and C) from protocol/device_model.yaml"
	@echo "make fuzz   - run the libFuzzer harnesses (message and manifest parsers) for 60 s each"

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

# The device model (protocol/device_model.yaml) -> the generated Python and C files.
model: setup
	$(BIN)/python -m protocol.codegen

lint: setup
	$(BIN)/python -m protocol.codegen --check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m hil.steps.docs --check

firmware: apt
	cmake -S firmware/host -B $(FW_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(FW_BUILD) -j2

firmware-asan: apt
	cmake -S firmware/host -B $(FW_ASAN) -DTEDDY_SANITIZE=ON
	cmake --build $(FW_ASAN) -j2

# cmocka tests (every vector file), plain and under AddressSanitizer + UBSan.
ctest: firmware firmware-asan
	ctest --test-dir $(FW_BUILD) --output-on-failure
	ctest --test-dir $(FW_ASAN) --output-on-failure

# Every Python tier (unit, emu, host_fw) and the scenario suite on the emulator.
pytest: setup firmware-asan
	$(BIN)/pytest -n 2 --fw-host $(FW_HOST_BIN)

# The same scenario suite on the C firmware built for the host.
fw-scenarios: setup firmware-asan
	$(BIN)/pytest scenarios --target firmware-host --fw-host $(FW_HOST_BIN) -n 2

test: lint ctest pytest fw-scenarios

fuzz: apt
	firmware/host/fuzz/run.sh 60 server_msg manifest

bench: setup
	$(BIN)/python -m server.bench
	$(BIN)/python -m server.body_bench
	$(BIN)/python -m hil.emulator_bench
	$(BIN)/python -m hil.serial.timing
	$(BIN)/python -m hil.tap.bench
	$(BIN)/python -m hil.audio.bench
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
