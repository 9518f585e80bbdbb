"""Helpers for the emulator tests: a console line recorder and a server-plus-board rig."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from emulator.core.timing import DeviceTiming
from emulator.host import DeviceSettings, EmulatorHost
from protocol.eventline import Event, parse_event_line, validate_event
from protocol.image import build_app_image
from server.embedded import EmbeddedServer
from server.releases import ReleaseOverrides, publish_release
from server.settings import ServerSettings
from server.speech.pipeline import SpeechPipeline
from server.state import build_state

WAIT_S = 10.0
FAST = DeviceTiming(self_test_limit_ms=1500)


class Lines:
    """Every console line of a board; waits are asyncio-friendly."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.events: list[Event] = []
        self._changed = asyncio.Event()

    def __call__(self, line: str) -> None:
        self.lines.append(line)
        event = parse_event_line(line)
        if event is not None:
            validate_event(event)  # every event line must match SPEC §8
            self.events.append(event)
        self._changed.set()

    def named(self, name: str) -> list[Event]:
        return [e for e in self.events if e.name == name]

    def mark(self) -> int:
        return len(self.events)

    async def wait(
        self,
        name: str,
        match: Callable[[dict[str, object]], bool] | None = None,
        *,
        since: int = 0,
        within: float = WAIT_S,
    ) -> Event:
        """The first event `name` (at index >= since) whose data satisfies `match`."""
        deadline = time.monotonic() + within
        while True:
            for event in self.events[since:]:
                if event.name == name and (match is None or match(event.data)):
                    return event
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                tail = "\n".join(self.lines[-25:])
                raise AssertionError(f"no {name} event within {within} s; last lines:\n{tail}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)


async def wait_for_nvs(
    flash_dir: Path,
    namespace: str,
    done: Callable[[dict[str, Any]], bool],
    *,
    within: float = WAIT_S,
) -> dict[str, Any]:
    """The board's NVS namespace on disk once `done` holds for it (polled, with a deadline).

    What the flash holds is the evidence a power cut keeps, so tests wait on the file, not
    on the device's account of it.
    """
    path = flash_dir / "nvs.json"
    deadline = time.monotonic() + within
    seen: dict[str, Any] = {}
    while time.monotonic() < deadline:
        with contextlib.suppress(FileNotFoundError, ValueError):
            seen = json.loads(path.read_text()).get(namespace, {})
            if done(seen):
                return seen
        await asyncio.sleep(0.01)
    raise AssertionError(f"{path}: {namespace} never satisfied the condition; last: {seen}")


@dataclass
class Rig:
    """An embedded reference server and one emulated board against it."""

    root: Path
    server: EmbeddedServer
    lines: Lines = field(default_factory=Lines)
    host: EmulatorHost | None = None

    def settings(self, **overrides: object) -> DeviceSettings:
        values: dict[str, object] = {
            "server_url": self.server.base_url,
            "flash_dir": self.root / "flash",
            "audio_dir": self.root / "audio",
            "timing": FAST,
        }
        values.update(overrides)
        return DeviceSettings(**values)  # type: ignore[arg-type]

    def board(
        self, *, transport: httpx.AsyncBaseTransport | None = None, **overrides: Any
    ) -> EmulatorHost:
        self.host = EmulatorHost(
            self.settings(**overrides), on_line=self.lines, http_transport=transport
        )
        return self.host

    def publish(
        self,
        version: str,
        *,
        chip: str = "esp32",
        secure_version: int = 0,
        payload: bytes = b"",
        image: bytes | None = None,
        mandatory: bool = True,
        overrides: ReleaseOverrides | None = None,
    ) -> bytes:
        data = image or build_app_image(
            version=version, chip=chip, secure_version=secure_version, payload=payload
        )
        state = self.server.state
        assert state is not None
        publish_release(
            store=state.store,
            data_dir=state.settings.data_dir,
            image=data,
            now=time.time(),
            mandatory=mandatory,
            allow_invalid=overrides is not None,
            overrides=overrides,
        )
        return data


def start_server(
    root: Path, pipeline: SpeechPipeline, *, public_port: int | None = None
) -> EmbeddedServer:
    settings = ServerSettings(data_dir=root / "server", public_port=public_port)
    return EmbeddedServer(settings, state=build_state(settings, pipeline=pipeline)).start()


async def boot_to_idle(rig: Rig, **overrides: Any) -> EmulatorHost:
    host = rig.board(**overrides)
    await host.start()
    await rig.lines.wait("ws.open")
    await rig.lines.wait("ota.none")  # the first check after ws.open (SPEC §5.4)
    return host


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    status: int = 0


class _Stalled(httpx.AsyncByteStream):
    """The first `limit` bytes of a body, then silence (a link that died mid-download)
    or, with `hang=False`, the end of the body (a connection closed early)."""

    def __init__(self, inner: httpx.AsyncByteStream, limit: int, *, hang: bool) -> None:
        self._inner = inner
        self._limit = limit
        self._hang = hang

    async def __aiter__(self):  # type: ignore[no-untyped-def]
        sent = 0
        async for chunk in self._inner:
            part = chunk[: max(0, self._limit - sent)]
            if part:
                yield part
                sent += len(part)
            if sent >= self._limit:
                if not self._hang:
                    return
                await asyncio.Event().wait()  # hangs until the task is cancelled

    async def aclose(self) -> None:
        await self._inner.aclose()


class RecordingTransport(httpx.AsyncBaseTransport):
    """Real loopback HTTP, recording every request; can stall the first image download."""

    def __init__(self, *, stall_image_after: int | None = None, hang: bool = True) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._stall = stall_image_after
        self._hang = hang
        self.seen: list[Seen] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        seen = Seen(request.method, request.url.path, dict(request.headers))
        self.seen.append(seen)
        response = await self._inner.handle_async_request(request)
        seen.status = response.status_code
        if self._stall is not None and request.url.path.startswith("/web/firmware/"):
            limit, self._stall = self._stall, None
            assert isinstance(response.stream, httpx.AsyncByteStream)
            response.stream = _Stalled(response.stream, limit, hang=self._hang)
        return response

    async def aclose(self) -> None:
        pass  # shared by every boot of the board; closed by the test

    async def close_inner(self) -> None:
        await self._inner.aclose()
