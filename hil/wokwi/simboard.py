"""The board a local Wokwi-protocol server "simulates": the Python emulator behind a UART.

Owns one simulation of `teddy-hil wokwi-server`: its simulated clock, pause / resume /
`pauseAfter`, the UART (console lines out as bytes, bytes in as console lines), the
diagram's push button, and the network as Wokwi's private gateway presents it.

- The firmware's app image (`hil.wokwi.project.find_app`) becomes the emulator's
  factory image on a fresh flash (kept across `sim:restart`), so `boot` reports the
  uploaded image's version, after the same bootloader banner the virtual board prints.
- Simulated time runs with the event loop's clock while the simulation runs and stands
  still while it is paused. The Python emulator itself cannot be frozen: while paused,
  its console output is held (delivered on resume) and serial input waits for resume.
  A simulation started paused boots only on its first resume (nothing is lost).
- The diagram's button: `control:set pressed 1/0` -> the emulator's `button press` /
  `button release`, whose `cmd.*` reply is dropped (a GPIO edge prints no reply).
- `host.wokwi.internal` resolves to 127.0.0.1 (`GatewayLoop`), as Wokwi's private
  gateway maps it to the machine the gateway runs on; run the server on that loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from emulator.core.timing import DeviceTiming
from emulator.flash import Flash
from emulator.host import DeviceSettings, EmulatorHost
from hil.virtual_board.app import FlashedApp, boot_banner
from protocol.errors import ProtocolError
from protocol.eventline import parse_event_line

GATEWAY_HOSTS: Final = frozenset({"host.wokwi.internal"})
DEFAULT_MAC: Final = bytes.fromhex("240ac4000110")
PRESSED: Final = "pressed"

Emit = Callable[[str, dict[str, object]], None]  # (event name, payload)


class GatewayLoop(asyncio.SelectorEventLoop):
    """An event loop whose resolver maps `host.wokwi.internal` to this machine (127.0.0.1)."""

    async def getaddrinfo(
        self,
        host: Any,
        port: Any,
        *,
        family: int = 0,
        type: int = 0,
        proto: int = 0,
        flags: int = 0,
    ) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if isinstance(name, str) and name.lower() in GATEWAY_HOSTS:
            host = "127.0.0.1"
        return await super().getaddrinfo(
            host, port, family=family, type=type, proto=proto, flags=flags
        )


class SimClock:
    """Simulated nanoseconds: advance with the loop's clock only while running."""

    def __init__(self) -> None:
        self._base_ns = 0
        self._since: float | None = None

    @property
    def running(self) -> bool:
        return self._since is not None

    def nanos(self) -> int:
        if self._since is None:
            return self._base_ns
        return self._base_ns + int((asyncio.get_running_loop().time() - self._since) * 1e9)

    def run(self) -> None:
        if self._since is None:
            self._since = asyncio.get_running_loop().time()

    def stop(self) -> None:
        self._base_ns = self.nanos()
        self._since = None

    def reset(self) -> None:
        self._base_ns, self._since = 0, None


class SimBoard:
    """One simulated ESP32 DevKit running `app` (a str: why it cannot boot); one loop."""

    def __init__(
        self,
        app: FlashedApp | str,
        *,
        directory: Path,
        server_url: str,
        button_part: str | None,
        emit: Emit,
        mac: bytes = DEFAULT_MAC,
        timing: DeviceTiming | None = None,
    ) -> None:
        self.app = app
        self.directory = directory
        self.server_url = server_url
        self.button_part = button_part
        self.clock = SimClock()
        self.timing = timing or DeviceTiming.realistic()
        self.device_id = f"Teddy-ESP32-{mac[2:].hex().upper()}"
        self._emit = emit
        self._host: EmulatorHost | None = None
        self._powered = False
        self._held: list[bytes] = []  # UART output while paused
        self._rx = bytearray()
        self._lines: asyncio.Queue[tuple[str, bool]] = asyncio.Queue()  # (line, button edge)
        self._running = asyncio.Event()
        self._console_task: asyncio.Task[None] | None = None
        self._pause_timer: asyncio.TimerHandle | None = None
        self._button_replies = 0  # replies to button edges still to drop
        self._pressed = False

    @property
    def paused(self) -> bool:
        return not self.clock.running

    # --- simulation control ------------------------------------------------------------

    async def start(self, *, paused: bool) -> None:
        self._console_task = asyncio.create_task(self._feed_console())
        if not paused:
            await self.resume(None)

    def pause(self) -> None:
        """Stop simulated time (explicitly or at `pauseAfter`); emits `sim:pause`."""
        self._cancel_timer()
        if self.clock.running:
            self.clock.stop()
            self._running.clear()
        self._emit("sim:pause", {})

    async def resume(self, pause_after_ns: int | None) -> None:
        self._cancel_timer()
        if not self._powered:
            await self._power_on()
        self.clock.run()
        self._running.set()
        held, self._held = self._held, []
        for data in held:
            self._emit("serial-monitor:data", {"bytes": list(data)})
        if pause_after_ns is not None:
            delay = max(0.0, pause_after_ns / 1e9)
            self._pause_timer = asyncio.get_running_loop().call_later(delay, self.pause)

    async def restart(self, *, paused: bool) -> None:
        """Reset the chip (simulated time starts at 0 again); the flash is kept."""
        self._cancel_timer()
        await self._power_off()
        self.clock.reset()
        self._running.clear()
        self._held.clear()
        if not paused:
            await self.resume(None)

    async def stop(self) -> None:
        self._cancel_timer()
        if self._console_task is not None:
            self._console_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._console_task
        await self._power_off()

    def _cancel_timer(self) -> None:
        if self._pause_timer is not None:
            self._pause_timer.cancel()
            self._pause_timer = None

    # --- the emulator ------------------------------------------------------------------

    async def _power_on(self) -> None:
        self._powered = True
        for line in boot_banner(self.app, download=False):
            self._uart(line)
        if isinstance(self.app, str):
            return  # no bootable app: the banner says why, the CPU halts
        emulator_dir = self.directory / "emulator"
        if not emulator_dir.exists():  # the uploaded image, on a chip fresh from flashing
            emulator_dir.mkdir(parents=True)
            Flash(emulator_dir).write_factory(
                self.app.image, secure_version=self.app.secure_version
            )
        settings = DeviceSettings(
            server_url=self.server_url,
            flash_dir=emulator_dir,
            audio_dir=self.directory / "audio",
            device_id=self.device_id,
            firmware_version=self.app.version,
            secure_version=self.app.secure_version,
            timing=self.timing,
        )
        self._host = EmulatorHost(settings, on_line=self._uart)
        await self._host.start()

    async def _power_off(self) -> None:
        self._powered = False
        host, self._host = self._host, None
        if host is not None:
            await host.power_cut()
            await host.stop()

    def _uart(self, line: str) -> None:
        if self._button_replies > 0 and _is_button_reply(line):
            self._button_replies -= 1  # the reply to an edge the server typed
            return
        data = line.encode("utf-8", errors="replace") + b"\r\n"
        if self.clock.running:
            self._emit("serial-monitor:data", {"bytes": list(data)})
        else:
            self._held.append(data)

    def serial_write(self, data: bytes) -> None:
        self._rx += data
        while (end := self._rx.find(b"\n")) >= 0:
            raw = bytes(self._rx[:end])
            del self._rx[: end + 1]
            line = raw.decode("utf-8", errors="replace").rstrip("\r")
            self._lines.put_nowait((line, False))

    async def _feed_console(self) -> None:
        """UART input and button edges, in order, while the CPU runs."""
        while True:
            line, from_button = await self._lines.get()
            await self._running.wait()  # a paused CPU reads nothing
            if self._host is None or not line.strip():
                continue
            if from_button:
                self._button_replies += 1  # SPEC §9.3: exactly one reply, maybe later
            await self._host.write_line(line)

    def set_control(self, part: str, control: str, value: float) -> str | None:
        """Apply `control:set`; returns why not (an error message) or None."""
        if part != self.button_part:
            return f"part {part!r} has no controls here (button part: {self.button_part!r})"
        if control != PRESSED:
            return f"control {control!r} of {part!r} is unknown (known: {PRESSED})"
        pressed = value >= 0.5
        if pressed != self._pressed:  # an edge; the same level again does nothing
            self._pressed = pressed
            self._lines.put_nowait(("button press" if pressed else "button release", True))
        return None


def _is_button_reply(line: str) -> bool:
    try:
        event = parse_event_line(line)
    except ProtocolError:
        return False
    return (
        event is not None
        and event.name in ("cmd.ok", "cmd.error")
        and event.data.get("cmd") == "button"
    )
