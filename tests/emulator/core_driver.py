"""Drives the sans-I/O device core by hand: inputs in, effects and event lines out."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import TypeVar

from emulator.core.boot import BootInfo, BuildConfig
from emulator.core.context import NvsData
from emulator.core.device import Device
from emulator.core.effects import Effect, HttpRequest, Print, SetTimer, WsConnect
from emulator.core.inputs import (
    ConsoleLine,
    HttpResponse,
    Input,
    TimeSynced,
    WifiUp,
    WsOpened,
    WsText,
)
from emulator.core.timing import DeviceTiming
from protocol.claim import ChildProfile, ClaimResponse, DeviceConfig
from protocol.device_model import Quirk
from protocol.eventline import Event, parse_event_line, validate_event

E = TypeVar("E")
TS = "2025-11-26T18:36:00.123+00:00"
WS_URL = "ws://127.0.0.1:8000/api/v1/esp32/private/chat"
SERVER = "http://127.0.0.1:8000"


def hello_frame() -> str:
    return json.dumps(
        {
            "type": "system",
            "data": {
                "type": "connection_established",
                "session_id": "s-1",
                "message": "Hello Mia! I'm ready to chat!",
                "server_time": TS,
            },
            "timestamp": TS,
        }
    )


def claim_body(*, expires_in: int = 3600) -> bytes:
    response = ClaimResponse(
        access_token="access-1",
        refresh_token="refresh-1",
        device_session_id="3f1c2b9e-8d7a-4e61-b0c4-5a2f9e7d1c30",
        child_profile=ChildProfile("child-001", "Friend", 7, "en"),
        device_config=DeviceConfig(WS_URL),
        expires_in=expires_in,
    )
    return json.dumps(response.to_json()).encode()


def error_body(code: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": code, "correlation_id": "c"}}).encode()


@dataclass
class Driver:
    """One booted core; `now` advances by hand."""

    boot: BootInfo = field(
        default_factory=lambda: BootInfo(
            fw_version="1.0.0", slot="ota_0", reset_reason="poweron", boot_count=1
        )
    )
    build: BuildConfig = field(
        default_factory=lambda: BuildConfig(server_url=SERVER, device_id="Teddy-ESP32-0001")
    )
    nvs: NvsData = field(default_factory=dict)
    timing: DeviceTiming = field(default_factory=DeviceTiming)
    now: int = 0
    effects: list[Effect] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    quirks: dict[Quirk, str] = field(default_factory=dict)  # SPEC Appendix C, from boot
    fresh_nonces: bool = False  # True: every nonce differs (else always bytes 0..15)

    def __post_init__(self) -> None:
        drawn = iter(range(1, 1 << 16))
        self.device = Device(
            boot=self.boot,
            build=self.build,
            nvs=self.nvs,
            timing=self.timing,
            rng=random.Random(0),
            nonce_source=(
                (lambda: next(drawn).to_bytes(16, "big"))
                if self.fresh_nonces
                else (lambda: bytes(range(16)))
            ),
            quirks=self.quirks,
        )
        self._record(self.device.start(now_ms=self.now))

    def _record(self, effects: list[Effect]) -> list[Effect]:
        self.effects.extend(effects)
        for effect in effects:
            if isinstance(effect, Print):
                event = parse_event_line(effect.line)
                if event is not None:
                    validate_event(event)
                    self.events.append(event)
        return effects

    def feed(self, event: Input, *, after_ms: int = 1) -> list[Effect]:
        self.now += after_ms
        return self._record(self.device.handle(event, now_ms=self.now))

    def line(self, text: str) -> list[Effect]:
        return self.feed(ConsoleLine(text))

    def state(self) -> str:
        """The core's SPEC §8.3 state (a call, so mypy does not pin it after an assert)."""
        return self.device.state

    def last(self, kind: type[E]) -> E:
        for effect in reversed(self.effects):
            if isinstance(effect, kind):
                return effect
        raise AssertionError(f"no {kind.__name__} effect")

    def all(self, kind: type[E]) -> list[E]:
        return [e for e in self.effects if isinstance(e, kind)]

    def named(self, name: str) -> list[dict[str, object]]:
        return [e.data for e in self.events if e.name == name]

    def timer(self, name: str) -> SetTimer:
        timers = [e for e in self.all(SetTimer) if e.name == name]
        assert timers, f"timer {name} never armed"
        return timers[-1]

    def answer(self, status: int, body: bytes = b"", **headers: str) -> list[Effect]:
        request = self.last(HttpRequest)
        return self.feed(HttpResponse(request.req_id, status, dict(headers), body))

    # --- canned boot steps ------------------------------------------------------------

    def to_claim(self) -> HttpRequest:
        self.feed(WifiUp("10.0.2.15"))
        self.answer(
            200, b'{"heartbeat_interval":30,"ws_path":"/api/v1/esp32/private/chat"}', etag='"e1"'
        )
        self.feed(TimeSynced(1_764_000_000))
        return self.last(HttpRequest)

    def to_ws(self) -> WsConnect:
        self.to_claim()
        self.answer(200, claim_body())
        return self.last(WsConnect)

    def to_idle(self) -> WsConnect:
        connect = self.to_ws()
        self.feed(WsOpened(connect.conn_id))
        self.feed(WsText(connect.conn_id, hello_frame()))
        return connect
