"""Drafting a device trace by recording the Python core (a developer's tool, not a test).

    .venv/bin/python -m tests.emulator.trace_draft               # every script
    .venv/bin/python -m tests.emulator.trace_draft chat_turn     # one
    .venv/bin/python -m tests.emulator.trace_draft --out /tmp/t  # elsewhere

Each script of `tests.emulator.trace_scripts` feeds inputs to a fresh core through a
`Draft` and writes what the core answered as the trace's expectation. A draft is only
a starting point: every expected effect of a committed trace is checked against SPEC by
hand (the traces are the truth both cores are held to, not a copy of the Python core),
and the C core must pass it unchanged. The trace tests never run this module.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Final, TypeVar

from emulator.core.effects import Effect, HttpRequest
from emulator.core.inputs import HttpResponse, Input
from protocol.device_codec import to_json
from tests.emulator.device_traces import TRACES_DIR, build_device, compared, load_setup

E = TypeVar("E")
TS: Final = "2025-11-26T18:36:00.123+00:00"
SERVER: Final = "http://127.0.0.1:8000"
WS_URL: Final = "ws://127.0.0.1:8000/api/v1/esp32/private/chat"
# SPEC §1.3's example id and §2.2's nonce: the first claim's hmac_hex is the SPEC anchor
# 2cbc09fe… (seed OOB of this id, child `child-unknown`).
DEVICE_ID: Final = "teddy-esp32-ccdba795baa4"
CHILD_ID: Final = "child-unknown"
SPEC_NONCE: Final = "ABEiM0RVZneImaq7zN3u/w=="  # 00112233445566778899aabbccddeeff
NONCE_2: Final = "ASNFZ4mrze8BI0VniavN7w=="  # 0123456789abcdef0123456789abcdef


def nonce(n: int) -> str:
    """A distinct 16-byte nonce (bytes n, n+1, ...) in base64, for traces that claim often."""
    return base64.b64encode(bytes((n + i) % 256 for i in range(16))).decode()


def default_build() -> dict[str, object]:
    return {
        "server_url": SERVER,
        "device_id": DEVICE_ID,
        "chip": "esp32",
        "oob_secret": None,
        "child_id": CHILD_ID,
        "child_name": "Mia",
        "child_age": 7,
        "volume": 70,
    }


def default_boot() -> dict[str, object]:
    return {
        "fw_version": "1.0.0",
        "slot": "ota_0",
        "reset_reason": "poweron",
        "boot_count": 1,
        "image_secure_version": 0,
        "efuse_secure_version": 0,
        "pending_verify": False,
        "rollback": None,
        "slot_size": 1572864,
        "panic_after_ms": None,
    }


def nvs(namespace: str, key: str, value: str | int) -> dict[str, object]:
    return {"kind": "nvs_set", "namespace": namespace, "key": key, "value": value}


class Draft:
    """One trace being recorded: a setup, then inputs fed at chosen uptimes."""

    def __init__(
        self,
        name: str,
        description: str,
        spec_sections: list[str],
        *,
        build: dict[str, object] | None = None,
        boot: dict[str, object] | None = None,
        nvs: list[dict[str, object]] | None = None,
        nonces: list[str] | None = None,
        timing_set: dict[str, int | float] | None = None,
    ) -> None:
        self.name = name
        self.setup: dict[str, object] = {
            "build": {**default_build(), **(build or {})},
            "timing": {
                "profile": "fast",
                "set": {"claim_jitter": 0, "reconnect_jitter": 0, **(timing_set or {})},
            },
            "boot": {**default_boot(), **(boot or {})},
            "nvs": nvs or [],
            "rng_seed": 0,
            "nonces": nonces if nonces is not None else [SPEC_NONCE],
        }
        self.head: dict[str, object] = {"description": description, "spec_sections": spec_sections}
        self.device = build_device(load_setup(self.setup, Path(f"{name}.json")))
        self.now = 0
        self.effects: list[Effect] = []  # everything the core did, for id look-ups
        self.start_step: dict[str, object] = {}
        self.steps: list[dict[str, object]] = []

    def start(self, now_ms: int = 0) -> list[Effect]:
        self.now = now_ms
        effects = self.device.start(now_ms=now_ms)
        self.effects += effects
        self.start_step = {"now_ms": now_ms, "effects": compared(effects)}
        return effects

    def feed(self, event: Input, *, after_ms: int = 1, note: str = "") -> list[Effect]:
        self.now += after_ms
        effects = self.device.handle(event, now_ms=self.now)
        self.effects += effects
        step: dict[str, object] = {"now_ms": self.now, "input": to_json(event)}
        if note:
            step = {"note": note, **step}
        step["effects"] = compared(effects)
        self.steps.append(step)
        return effects

    def at(self, now_ms: int, event: Input, *, note: str = "") -> list[Effect]:
        return self.feed(event, after_ms=now_ms - self.now, note=note)

    def last(self, kind: type[E]) -> E:
        for effect in reversed(self.effects):
            if isinstance(effect, kind):
                return effect
        raise AssertionError(f"{self.name}: no {kind.__name__} effect yet")

    def answer(
        self,
        status: int,
        body: bytes = b"",
        *,
        headers: dict[str, str] | None = None,
        after_ms: int = 1,
        note: str = "",
    ) -> list[Effect]:
        """Answer the newest http_request."""
        request = self.last(HttpRequest)
        return self.feed(
            HttpResponse(request.req_id, status, headers or {}, body), after_ms=after_ms, note=note
        )

    def document(self) -> dict[str, object]:
        return {**self.head, "setup": self.setup, "start": self.start_step, "steps": self.steps}

    def write(self, folder: Path) -> Path:
        path = folder / f"{self.name}.json"
        path.write_text(layout(self.document()), encoding="utf-8")
        return path


def _one(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def _items(items: list[object], indent: str) -> str:
    """A list with one compact item per line (effects, NVS entries)."""
    if not items:
        return "[]"
    body = ",\n".join(f"{indent} {_one(item)}" for item in items)
    return f"[\n{body}\n{indent}]"


def _step(step: dict[str, object]) -> str:
    head = ", ".join(f"{_one(k)}: {_one(v)}" for k, v in step.items() if k != "effects")
    effects = step["effects"]
    assert isinstance(effects, list)
    return f'  {{{head},\n   "effects": {_items(effects, "   ")}}}'


def layout(doc: dict[str, object]) -> str:
    """The committed layout: one effect, input or NVS entry per line, for review."""
    setup = doc["setup"]
    assert isinstance(setup, dict)
    setup_lines = []
    for key, value in setup.items():
        text = _items(value, "  ") if key == "nvs" and isinstance(value, list) else _one(value)
        setup_lines.append(f"  {_one(key)}: {text}")
    start, steps = doc["start"], doc["steps"]
    assert isinstance(start, dict) and isinstance(steps, list)
    parts = [
        f' "description": {_one(doc["description"])}',
        f' "spec_sections": {_one(doc["spec_sections"])}',
        ' "setup": {\n' + ",\n".join(setup_lines) + "\n }",
        ' "start":\n' + _step(start),
        ' "steps": [\n' + ",\n".join(_step(step) for step in steps) + "\n ]",
    ]
    return "{\n" + ",\n".join(parts) + "\n}\n"


def main(
    argv: list[str] | None = None, scripts: dict[str, Callable[[], Draft]] | None = None
) -> int:
    if scripts is None:
        from tests.emulator.trace_scripts import SCRIPTS

        scripts = SCRIPTS
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "names", nargs="*", help=f"scripts to run (default: all of {', '.join(scripts)})"
    )
    parser.add_argument("--out", type=Path, default=TRACES_DIR, help="folder to write into")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in scripts]
    if unknown:
        parser.error(f"unknown script(s) {', '.join(unknown)}; have {', '.join(scripts)}")
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.names or list(scripts):
        print(scripts[name]().write(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
