"""The virtual ESP32 dev board on a TCP port: reset, strapping, download and run mode.

Owns the board's lifecycle on `socket://` (pyserial and esptool cannot carry DTR/RTS
over a raw socket, so the auto-reset circuit is replaced by a documented equivalent):

- every accepted TCP connection is a power-on reset (EN pulse);
- the GPIO0 strap is read from the client's first bytes: a SLIP frame (0xC0, esptool's
  SYNC) within `download_window` seconds -> download mode (ROM loader, `rom.py`);
  any other byte, or silence for the whole window -> run mode (`app.py`);
- in download mode, FLASH_END / RUN_USER_CODE (esptool `--after soft-reset`) leave the
  loader and boot the app on the same connection;
- closing the connection powers the board off (the next connection boots again).

One client at a time: a second connection waits up to 2 s for the first to end (its
power-off), then is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from emulator.core.timing import DeviceTiming
from emulator.host import DeviceSettings, EmulatorHost
from hil.serial.bench import WIRED_CAPABILITIES
from hil.serial.wiring import wiring_line
from hil.virtual_board.app import boot_banner
from hil.virtual_board.bootloader import plan_boot, prepare_emulator, write_back
from hil.virtual_board.flash_image import FlashImage
from hil.virtual_board.registers import Esp32Registers
from hil.virtual_board.rom import RomLoader

log = logging.getLogger("teddy.virtual_board")

DEFAULT_WINDOW_S: Final = 0.5
DEFAULT_WIRING: Final = WIRED_CAPABILITIES
DEFAULT_MAC: Final = bytes.fromhex("240ac4a795ba")
READ_SIZE: Final = 65536
BUSY_WAIT_S: Final = 2.0  # a previous client's session needs a moment to power off


@dataclass(frozen=True)
class BoardConfig:
    """How the virtual board is built: where its flash lives, what it talks to."""

    directory: Path
    server_url: str
    mac: bytes = DEFAULT_MAC
    device_id: str | None = None  # None -> Teddy-ESP32-<last 4 MAC bytes>
    download_window: float = DEFAULT_WINDOW_S
    # Printed at boot (hil.serial.wiring): the emulator speaks, records, has the push-to-talk
    # button and its link can be cut, so a run without a bench file offers all of it.
    wiring: tuple[str, ...] = DEFAULT_WIRING
    timing: DeviceTiming = field(default_factory=DeviceTiming)

    @property
    def resolved_device_id(self) -> str:
        return self.device_id or f"Teddy-ESP32-{self.mac[2:].hex().upper()}"


Writer = Callable[[bytes], None]


class BoardSession:
    """One power-on of the board, fed with the bytes of one connection."""

    def __init__(self, config: BoardConfig, flash: FlashImage, write: Writer) -> None:
        self.config = config
        self.flash = flash
        self._write = write
        self.mode = "off"
        self.rom: RomLoader | None = None
        self.host: EmulatorHost | None = None
        self._console = bytearray()
        self._lines: asyncio.Queue[str] = asyncio.Queue()
        self._console_task: asyncio.Task[None] | None = None

    @property
    def emulator_dir(self) -> Path:
        return self.config.directory / "emulator"

    async def enter_download(self) -> None:
        self.mode = "download"
        self.rom = RomLoader(self.flash, Esp32Registers(self.config.mac))

    async def enter_run(self) -> None:
        self.mode = "run"
        self.rom = None
        plan = plan_boot(self.flash)
        app = prepare_emulator(self.flash, plan, self.emulator_dir)
        for line in boot_banner(app, download=False, offset=plan.partition.offset):
            self._print(line)
        if not isinstance(app, str):
            self._print(wiring_line(self.config.wiring))
        if isinstance(app, str):
            self.mode = "halted"  # a real ESP32 would print this in a boot loop
            return
        emulator_dir = self.emulator_dir
        settings = DeviceSettings(
            server_url=self.config.server_url,
            flash_dir=emulator_dir,
            audio_dir=self.config.directory / "audio",
            device_id=self.config.resolved_device_id,
            firmware_version=app.version,
            secure_version=app.secure_version,
            timing=self.config.timing,
        )
        self.host = EmulatorHost(settings, on_line=self._print)
        await self.host.start()
        self._console_task = asyncio.create_task(self._feed_console())

    async def feed(self, data: bytes) -> None:
        if self.mode == "download" and self.rom is not None:
            out = self.rom.feed(data)
            if out:
                self._write(out)
            if self.rom.exit_requested:
                await self.enter_run()
        elif self.mode == "run":
            self._console += data
            while (end := self._console.find(b"\n")) >= 0:
                raw = bytes(self._console[:end])
                del self._console[: end + 1]
                self._lines.put_nowait(raw.decode("utf-8", errors="replace").rstrip("\r"))

    async def _feed_console(self) -> None:
        while True:
            line = await self._lines.get()
            host = self.host
            if host is not None and line.strip():
                await host.write_line(line)

    def _print(self, line: str) -> None:
        self._write(line.encode("utf-8", errors="replace") + b"\r\n")

    async def power_off(self) -> None:
        """Idempotent: the connection's end and the board's stop may both call it."""
        if self.mode == "off":
            return
        self.mode = "off"
        if self._console_task is not None:
            self._console_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._console_task
        if self.host is not None:
            await self.host.power_cut()
            await self.host.stop()
            write_back(self.flash, self.emulator_dir)
        self.flash.flush()


class VirtualBoard:
    """The TCP server: `await board.start()`, then `board.port`; `await board.stop()`."""

    def __init__(self, config: BoardConfig, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config = config
        self.flash = FlashImage(config.directory)
        self._bind = (host, port)
        self._server: asyncio.Server | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self.session: BoardSession | None = None
        self.sessions = 0

    @property
    def port(self) -> int:
        assert self._server is not None, "start() first"
        sock = self._server.sockets[0]
        return int(sock.getsockname()[1])

    @property
    def url(self) -> str:
        return f"socket://{self._bind[0]}:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._client, *self._bind)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        if self.session is not None:
            await self.session.power_off()
        self.flash.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not await self._claim():  # one client at a time, like a serial port
            writer.close()
            return
        self.sessions += 1
        session = BoardSession(self.config, self.flash, writer.write)
        self.session = session
        try:
            first = await self._strap(reader)
            if first[:1] == b"\xc0":
                await session.enter_download()
            else:
                await session.enter_run()
            await session.feed(first)
            while data := await reader.read(READ_SIZE):
                await session.feed(data)
                await writer.drain()
        except (ConnectionError, OSError) as exc:
            log.info("client went away: %s", exc)
        finally:
            await session.power_off()
            self.session = None
            self._idle.set()
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    async def _claim(self) -> bool:
        """Take the port; a client reconnecting right after a close waits for the power-off."""
        try:
            await asyncio.wait_for(self._idle.wait(), BUSY_WAIT_S)
        except TimeoutError:
            return False
        self._idle.clear()
        return True

    async def _strap(self, reader: asyncio.StreamReader) -> bytes:
        """The first bytes within the download window (b"" when the client is silent)."""
        try:
            return await asyncio.wait_for(reader.read(READ_SIZE), self.config.download_window)
        except TimeoutError:
            return b""
