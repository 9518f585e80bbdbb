"""`WokwiSession`: one Wokwi simulation driven through wokwi-client (the only user of it).

Owns the calls into `wokwi_client.WokwiClient` and the knowledge of its protocol:
upload the build and diagram, start the simulation without losing its first output,
stream serial bytes, write serial bytes, `set_control`, simulated-time deadlines and the
simulated time a session used. The server is the URL it is given (the `api_url` option,
hil.wokwi.options: Wokwi's cloud, or a local `teddy-hil wokwi-server`), always passed to
wokwi-client, so wokwi-client never falls back to `$WOKWI_CLI_SERVER` by itself.

Simulated time: every event carries the simulation's `nanos`. A deadline of N seconds
of simulated time pauses the simulation, notes the time, and resumes it with
`pauseAfter` = N s (what `WokwiClient.wait_until_simulation_time` does): the `sim:pause`
event at or after that time means the deadline passed, however fast or slow the
simulation runs against the wall clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Final

from wokwi_client import WokwiClient

from hil.errors import HilError
from hil.wokwi.project import Build

PAUSE_EVENT_S: Final = 5.0  # the `sim:pause` event follows a pause request promptly
TOLERANCE_NS: Final = 1_000_000


@dataclass(frozen=True)
class Upload:
    """What `upload` sent: sim:start arguments and its cost."""

    firmware: Any  # a file name or wokwi_client's list of FlashSection
    elf: str | None
    flash_size: int | None
    size: int  # bytes of firmware (and ELF) uploaded
    seconds: float


class WokwiSession:
    """`connect`, `upload`, `start`, then `write` / `set_control` / `deadline`; `close`."""

    def __init__(self, token: str, *, url: str, on_serial: Callable[[bytes], None]) -> None:
        self.url = url
        self._client = WokwiClient(token, url)
        self._on_serial = on_serial
        self.last_nanos = 0
        self._pauses: list[int] = []
        self._pause_seen = asyncio.Event()
        self._deadlines: list[tuple[int, asyncio.Future[None]]] = []
        self.server_version = ""
        self._connected = False

    @property
    def _transport(self) -> Any:
        # The monitor workaround (`start`) needs the transport's listener hook itself.
        return self._client._transport

    async def connect(self) -> None:
        where = self.url
        try:
            info = await self._client.connect()
        except Exception as exc:
            raise HilError(
                f"cannot open a Wokwi session at {where}: {type(exc).__name__}: {exc};"
                " check $WOKWI_CLI_TOKEN and that the server (--wokwi-api-url) is reachable"
            ) from exc
        self._connected = True
        self.server_version = str(info.get("version", ""))
        self._transport.add_event_listener("serial-monitor:data", self._serial_event)
        self._transport.add_event_listener("sim:pause", self._pause_event)

    async def _call(self, what: str, call: Any) -> Any:
        try:
            return await call
        except HilError:
            raise
        except Exception as exc:
            raise HilError(f"Wokwi {what} failed: {type(exc).__name__}: {exc}") from exc

    async def upload(self, build: Build, diagram: str) -> Upload:
        """Upload `diagram.json` and the build (each flash section, or firmware + ELF)."""
        began = time.monotonic()
        await self._call("diagram upload", self._client.upload_text("diagram.json", diagram))
        elf: str | None = None
        flash_size = build.flash_size_mb
        if build.sections:
            result = await self._call(
                "firmware upload", self._client.upload_idf_firmware(build.origin)
            )
            firmware, flash_size = result.firmware, result.flash_size or flash_size
        else:
            assert build.firmware is not None
            firmware = build.firmware.name
            await self._call("firmware upload", self._client.upload_file(firmware, build.firmware))
        size = build.size
        if build.elf is not None:
            elf = build.elf.name
            await self._call("ELF upload", self._client.upload_file(elf, build.elf))
            size += build.elf.stat().st_size
        return Upload(firmware, elf, flash_size, size, time.monotonic() - began)

    async def start(self, upload: Upload) -> None:
        """Start the simulation and the serial monitor without losing a byte.

        wokwi-client's `serial_monitor()` loses output: its `monitor_lines` sends
        `serial-monitor:listen` and subscribes its event queue only after awaiting the
        response (and the monitor task itself starts a loop turn later). The transport's
        receive loop dispatches every event as it arrives, so `serial-monitor:data` the
        server sends as soon as it starts listening, before or right after its response
        (the boot banner and first `@teddy` lines of a running simulation), reaches no
        listener and is dropped. So the simulation starts paused (it prints nothing), our
        listener is on the transport before `listen` is sent (`connect`), and only then
        does the simulation resume.
        """
        await self._call(
            "sim:start",
            self._client.start_simulation(
                firmware=upload.firmware, elf=upload.elf, pause=True, flash_size=upload.flash_size
            ),
        )
        await self._call(
            "serial-monitor:listen", self._transport.request("serial-monitor:listen", {})
        )
        await self._call("sim:resume", self._client.resume_simulation())

    async def write(self, data: bytes) -> None:
        await self._call("serial write", self._client.serial_write(data))

    async def set_control(self, part: str, control: str, value: float) -> None:
        await self._call(
            f"set_control {part}.{control}", self._client.set_control(part, control, value)
        )

    async def restart(self) -> None:
        """Reset the chip (restart paused, then resume: the monitor stays attached)."""
        await self._call("sim:restart", self._client.restart_simulation(pause=True))
        await self._call("sim:resume", self._client.resume_simulation())

    # --- simulated time -------------------------------------------------------------------

    def _serial_event(self, event: dict[str, Any]) -> None:
        self._note(event)
        self._on_serial(bytes(event["payload"]["bytes"]))

    def _pause_event(self, event: dict[str, Any]) -> None:
        nanos = self._note(event)
        self._pauses.append(nanos)
        self._pause_seen.set()
        for target, future in self._deadlines:
            if nanos + TOLERANCE_NS >= target and not future.done():
                future.set_result(None)

    def _note(self, event: dict[str, Any]) -> int:
        nanos = int(event.get("nanos") or 0)
        self.last_nanos = max(self.last_nanos, nanos)
        return nanos

    async def pause(self) -> int:
        """Pause; the simulated time (ns) at the pause (from its `sim:pause` event)."""
        seen = len(self._pauses)
        await self._call("sim:pause", self._client.pause_simulation())
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(PAUSE_EVENT_S):
                while len(self._pauses) == seen:
                    self._pause_seen.clear()
                    await self._pause_seen.wait()
        return self._pauses[-1] if len(self._pauses) > seen else self.last_nanos

    @contextlib.asynccontextmanager
    async def deadline(self, seconds: float) -> AsyncIterator[asyncio.Future[None]]:
        """Within the block, the future completes once `seconds` of simulated time passed."""
        span = max(1, int(seconds * 1e9))
        start = await self.pause()
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (start + span, future)
        self._deadlines.append(entry)
        try:
            await self._call("sim:resume", self._client.resume_simulation(pause_after=span))
            yield future
        finally:
            self._deadlines.remove(entry)
            if self._connected:
                if not future.done():
                    await self.pause()  # drop the pending pauseAfter
                await self._call("sim:resume", self._client.resume_simulation())

    async def close(self) -> int:
        """Pause (to read the final simulated time), disconnect; returns that time in ns."""
        nanos = self.last_nanos
        if self._connected:
            with contextlib.suppress(HilError):
                nanos = await self.pause()
            self._connected = False
            with contextlib.suppress(Exception):
                await self._client.disconnect()
        return nanos
