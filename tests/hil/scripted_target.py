"""`ScriptedTarget`: a stand-in device for testing the harness, not the device.

It prints canned SPEC §8 event lines: a boot sequence on `start`, `cmd.ok`/`cmd.error`
replies from the real SPEC §9 parser for every console line, and whatever extra lines
a test attaches to a command. With `claim_over_http` it also sends one real, correctly
signed claim to the server, so `expect_server` steps see a genuine `claim.ok`. Nothing
else is real: no Wi-Fi, no WebSocket, no audio, no flash. Tests configure it through
class attributes (`ScriptedTarget.configure`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import httpx

from hil.errors import MissingCapabilityError
from hil.targets.base import AUDIO_IN, AUDIO_OUT, BUTTON, RESET, LineSplitter, Target, TargetSetup
from hil.targets.registry import register
from protocol.console import command_word, parse_command
from protocol.constants import CLAIM_PATH
from protocol.errors import CommandError
from protocol.eventline import format_event
from tests.server.helpers import claim_body

DEVICE_ID = "Teddy-ESP32-0001"


def event(name: str, **data: object) -> str:
    return format_event(uptime_ms=1, name=name, data=data)


BOOT_LINES: tuple[str, ...] = (
    "ets Jun  8 2016 00:22:57 (free text before the first event)",
    event("boot", fw_version="1.0.0", slot="ota_0", reset_reason="poweron", device_id=DEVICE_ID),
    event("wifi.up", ip="10.0.0.2"),
    event("config.ok", etag='"abc"', cached=False),
)
AFTER_CLAIM: tuple[str, ...] = (
    event("ws.open", url="ws://127.0.0.1/api/v1/esp32/private/chat"),
    event("state", **{"from": "connecting", "to": "idle"}),
)


@dataclass
class Script:
    boot: Sequence[str] = BOOT_LINES
    after_claim: Sequence[str] = AFTER_CLAIM
    claim_over_http: bool = True
    raw_boot: bytes = b""  # fed through LineSplitter (garbage tests)
    on_command: Mapping[str, Sequence[str]] = field(default_factory=dict)  # first word -> lines
    silent: bool = False  # print nothing at all (timeout tests)
    explode_on: str | None = None  # write_line raises RuntimeError for this line


@dataclass
class Calls:
    """What the harness did to the target (the tests assert on it)."""

    started: int = 0
    stopped: int = 0
    lines: list[str] = field(default_factory=list)
    resets: list[str] = field(default_factory=list)


@register("scripted")
class ScriptedTarget(Target):
    description = "test double: canned event lines and one real claim; no device behind it"
    declared_capabilities = frozenset({AUDIO_IN, AUDIO_OUT, BUTTON, RESET})
    script: ClassVar[Script] = Script()
    calls: ClassVar[Calls] = Calls()

    @classmethod
    def configure(cls, script: Script) -> Calls:
        cls.script = script
        cls.calls = Calls()
        return cls.calls

    def __init__(self, setup: TargetSetup) -> None:
        super().__init__(setup)
        self._splitter = LineSplitter(self.lines.emit)

    def device_vars(self) -> dict[str, object]:
        return {"device_id": DEVICE_ID, "child_id": "child-001", **self.setup.device}

    async def start(self) -> None:
        self.calls.started += 1
        if self.script.silent:
            return
        for line in self.script.boot:
            self.lines.emit(line)
        if self.script.raw_boot:
            self._splitter.feed(self.script.raw_boot)
            self._splitter.flush()
        if self.script.claim_over_http:
            await self._claim()
        for line in self.script.after_claim:
            self.lines.emit(line)

    async def _claim(self) -> None:
        body = claim_body(DEVICE_ID, "child-001")
        async with httpx.AsyncClient(base_url=self.setup.server_url) as client:
            response = await client.post(CLAIM_PATH, json=body)
        data = response.json()
        if response.status_code == 200:
            profile = data["child_profile"]
            self.lines.emit(
                event(
                    "claim.ok",
                    device_session_id=data["device_session_id"],
                    child_id=profile["id"],
                    age=profile["age"],
                )
            )
        else:
            code, message = data["error"]["code"], data["error"].get("message", "")
            self.lines.emit(
                event(
                    "claim.fail",
                    status=response.status_code,
                    code=code,
                    attempt=1,
                    retry_in_ms=0,
                    message=message,  # SPEC §8.2: what the server said
                    field="",
                )
            )

    async def write_line(self, line: str) -> None:
        self.calls.lines.append(line)
        await asyncio.sleep(0)
        if line == self.script.explode_on:
            raise RuntimeError(f"scripted explosion on {line!r}")
        if self.script.silent:
            return
        word = command_word(line)
        try:
            command = parse_command(line)
        except CommandError as exc:
            self.lines.emit(event("cmd.error", cmd=word, reason=exc.reason))
            return
        extra: dict[str, object] = {}
        if command.name == "status":
            extra = {"state": "idle", "fw_version": "1.0.0", "device_id": DEVICE_ID, "ws": True}
        self.lines.emit(event("cmd.ok", cmd=command.name, **extra))
        for follow in self.script.on_command.get(command.name, ()):
            self.lines.emit(follow)

    async def power_cut(self) -> None:
        raise MissingCapabilityError("ScriptedTarget has no power_cut capability")

    async def reset(self, reason: str = "power_on") -> None:
        self.calls.resets.append(reason)
        await self.start()

    async def stop(self) -> None:
        self.calls.stopped += 1


@register("scripted-mute")
class MuteScriptedTarget(ScriptedTarget):
    """The same stand-in without a microphone: scenarios needing audio_in skip."""

    description = "test double without audio_in (capability skip tests)"
    declared_capabilities = frozenset({AUDIO_OUT, RESET})
