"""The virtual board on `rfc2217://`: DTR/RTS over the network, as esp_rfc2217_server does it.

Owns the RFC 2217 transport (Telnet COM-PORT-OPTION, via pyserial's `PortManager`) and
the board's reaction to the client's modem-line requests. Each DTR/RTS write crosses the
network with a round trip (about 50 ms with pyserial's client), far longer than the RC on
a DevKit's EN pin, so replaying the lines literally would boot the app where esptool
wants the ROM loader. esptool's own RFC 2217 server (`esp_rfc2217_server`) therefore
recognises the start of a sequence and performs the reset locally; this board follows the
same rules:

- DTR asserted while not already entering download mode -> reset into the ROM loader
  (esptool `--before default-reset`, the `serial` target's `classic` bootloader sequence);
- RTS released while not entering download mode -> hard reset into the app (esptool
  `--after hard-reset`, the `classic` run sequence, and opening the port with DTR/RTS
  released, as a monitor does);
- DTR released ends the download sequence; the other line changes are ignored.

Unlike `socket://`, a connection is not a power-on: the board powers on with the first
client (USB plugged in) and keeps running between connections, as a board does when a
monitor closes its port; its output without a client is lost, as on a real UART.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from serial.rfc2217 import (
    COM_PORT_OPTION,
    SERVER_SET_CONTROL,
    SET_CONTROL,
    SET_CONTROL_DTR_OFF,
    SET_CONTROL_DTR_ON,
    SET_CONTROL_RTS_OFF,
    SET_CONTROL_RTS_ON,
    PortManager,
)

from hil.virtual_board.board import READ_SIZE, BoardConfig, BoardSession
from hil.virtual_board.flash_image import FlashImage

log = logging.getLogger("teddy.virtual_board.rfc2217")

Reset = Callable[[bool], None]  # download: bool
LINE_CONTROLS = (SET_CONTROL_DTR_ON, SET_CONTROL_DTR_OFF, SET_CONTROL_RTS_ON, SET_CONTROL_RTS_OFF)


class VirtualUart:
    """What `PortManager` reads and writes: line settings and the modem lines."""

    def __init__(self) -> None:
        self.dtr = False
        self.rts = False
        self.baudrate = 115200
        self.bytesize = 8
        self.parity = "N"
        self.stopbits = 1
        self.xonxoff = False
        self.rtscts = False
        self.break_condition = False
        self.cts = self.dsr = self.ri = self.cd = False

    def reset_input_buffer(self) -> None:
        """PURGE_DATA: nothing is buffered on this side."""

    def reset_output_buffer(self) -> None:
        """PURGE_DATA: nothing is buffered on this side."""


class ResettingPortManager(PortManager):  # type: ignore[misc]
    """`PortManager` that turns the client's reset sequences into board resets."""

    def __init__(self, uart: VirtualUart, connection: object, reset: Reset) -> None:
        self._reset = reset
        self.entering_download = False
        super().__init__(uart, connection)

    def _telnet_process_subnegotiation(self, suboption: bytes) -> None:
        control = suboption[2:3]
        if suboption[0:2] != COM_PORT_OPTION + SET_CONTROL or control not in LINE_CONTROLS:
            super()._telnet_process_subnegotiation(suboption)
            return
        if control == SET_CONTROL_DTR_OFF:
            self.entering_download = False
            self.serial.dtr = False
        elif control == SET_CONTROL_RTS_OFF:
            self.serial.rts = False
            if not self.entering_download:
                self._reset(False)
        elif control == SET_CONTROL_DTR_ON:
            self.serial.dtr = True
            if not self.entering_download:
                self.entering_download = True
                self._reset(True)
        else:
            self.serial.rts = True
        # Acknowledged as PortManager does: pyserial's client waits for the answer.
        self.rfc2217_send_subnegotiation(SERVER_SET_CONTROL, control)


class _Connection:
    """The `connection` PortManager answers Telnet negotiation on."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer

    def write(self, data: bytes) -> None:
        self._writer.write(data)


class Rfc2217Board:
    """`await board.start()`, then `board.url` (rfc2217://host:port); `await board.stop()`."""

    def __init__(self, config: BoardConfig, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config = config
        self.flash = FlashImage(config.directory)
        self._bind = (host, port)
        self._server: asyncio.Server | None = None
        self._client_writer: asyncio.StreamWriter | None = None
        self._manager: ResettingPortManager | None = None
        self.uart = VirtualUart()
        self._resets: list[bool] = []  # requested while filtering one read (download?)
        self.session: BoardSession | None = None
        self.boots: list[str] = []  # "download" / "run", in order (for tests and logs)

    @property
    def url(self) -> str:
        assert self._server is not None, "start() first"
        port = int(self._server.sockets[0].getsockname()[1])
        return f"rfc2217://{self._bind[0]}:{port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._client, *self._bind)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        await self._power_off()
        self.flash.close()

    # --- resets ---------------------------------------------------------------------

    def _request_reset(self, download: bool) -> None:
        self._resets.append(download)  # PortManager calls this synchronously in filter()

    async def _boot(self, *, download: bool) -> None:
        await self._power_off()
        self.session = BoardSession(self.config, self.flash, self._console_write)
        self.boots.append("download" if download else "run")
        if download:
            await self.session.enter_download()
        else:
            await self.session.enter_run()

    async def _power_off(self) -> None:
        session, self.session = self.session, None
        if session is not None:
            await session.power_off()

    # --- the connection -------------------------------------------------------------

    def _console_write(self, data: bytes) -> None:
        writer, manager = self._client_writer, self._manager
        if writer is not None and manager is not None and not writer.is_closing():
            writer.write(b"".join(manager.escape(data)))

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._client_writer is not None:  # one client at a time, like a serial port
            writer.close()
            return
        self._client_writer = writer
        self._manager = ResettingPortManager(self.uart, _Connection(writer), self._request_reset)
        try:
            if self.session is None:
                await self._boot(download=False)  # the first client plugs the board in
            while data := await reader.read(READ_SIZE):
                plain = b"".join(self._manager.filter(data))
                resets, self._resets = self._resets, []
                for download in resets:
                    await self._boot(download=download)
                if plain and self.session is not None:
                    await self.session.feed(plain)
                await writer.drain()
        except (ConnectionError, OSError) as exc:
            log.info("client went away: %s", exc)
        finally:
            self._client_writer = None
            self._manager = None
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()
