"""Serial-console transports for the emulator CLI: stdio, a pseudo-terminal, or TCP.

Owns moving lines between the emulated board and whoever drives it, exactly like a
board's UART: lines out (SPEC §8 event lines and free text, LF-terminated), lines in
(SPEC §9 commands; a trailing CR is dropped). A pty gives tools that expect a serial
device (pyserial, `screen`) a path to open; TCP serves one client at a time (a second
connection is told `busy` and closed). Output nobody reads is dropped, as on a UART.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import os
import sys
import tty
from typing import Final

MAX_LINE_BYTES: Final = 4096  # SPEC §9.1 asks for at least 256


class Console(abc.ABC):
    """Base: an input line queue (None = the input ended) and a `write_line` sink."""

    def __init__(self) -> None:
        self.inbox: asyncio.Queue[str | None] = asyncio.Queue()
        self.client_ready = asyncio.Event()

    async def open(self) -> str:
        """Start the transport; returns a one-line description (path, port)."""
        self.client_ready.set()
        return "console: stdio"

    @abc.abstractmethod
    def write_line(self, line: str) -> None:
        """Send one output line to the connected client (stdio, pty or TCP)."""

    def _feed(self, buffer: bytearray, data: bytes) -> None:
        buffer += data
        while b"\n" in buffer:
            raw, _, rest = bytes(buffer).partition(b"\n")
            buffer[:] = rest
            self.inbox.put_nowait(raw[:MAX_LINE_BYTES].decode("utf-8", "replace").rstrip("\r"))
        if len(buffer) > MAX_LINE_BYTES:  # an endless line: keep its start only
            del buffer[MAX_LINE_BYTES:]

    async def close(self) -> None:
        return None


class StdioConsole(Console):
    """stdin/stdout of the process; end of input stops the emulator."""

    async def open(self) -> str:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        self._task = asyncio.create_task(self._pump(reader))
        self.client_ready.set()
        return "console: stdio"

    async def _pump(self, reader: asyncio.StreamReader) -> None:
        buffer = bytearray()
        while chunk := await reader.read(4096):
            self._feed(buffer, chunk)
        self.inbox.put_nowait(None)

    def write_line(self, line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


class PtyConsole(Console):
    """A pseudo-terminal in raw mode; the slave path is what a harness opens."""

    async def open(self) -> str:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo, no line editing: a UART, not a shell
        os.set_blocking(self._master, False)
        self.path = os.ttyname(self._slave)
        self._buffer = bytearray()
        asyncio.get_running_loop().add_reader(self._master, self._readable)
        self.client_ready.set()
        return f"console: pty {self.path}"

    def _readable(self) -> None:
        try:
            data = os.read(self._master, 4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if data:
            self._feed(self._buffer, data)

    def write_line(self, line: str) -> None:
        with contextlib.suppress(BlockingIOError, OSError):
            os.write(self._master, (line + "\n").encode())

    async def close(self) -> None:
        asyncio.get_running_loop().remove_reader(self._master)
        os.close(self._master)
        os.close(self._slave)


class TcpConsole(Console):
    """A TCP console on 127.0.0.1:<port> (0 = any free port), one client at a time."""

    def __init__(self, port: int) -> None:
        super().__init__()
        self._port = port
        self._writer: asyncio.StreamWriter | None = None
        self._server: asyncio.Server | None = None

    async def open(self) -> str:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", self._port)
        port = self._server.sockets[0].getsockname()[1]
        self.port = int(port)
        return f"console: tcp 127.0.0.1:{self.port}"

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._writer is not None:
            writer.write(b"busy: another client holds this console\n")
            with contextlib.suppress(ConnectionError):
                await writer.drain()
            writer.close()
            return
        self._writer = writer
        self.client_ready.set()  # the board powers on with its first client, like DTR reset
        buffer = bytearray()
        try:
            while chunk := await reader.read(4096):
                self._feed(buffer, chunk)
        except ConnectionError:
            pass
        finally:
            self._writer = None
            writer.close()

    def write_line(self, line: str) -> None:
        writer = self._writer
        if writer is not None and not writer.is_closing():
            writer.write((line + "\n").encode())

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


def make_console(spec: str) -> Console:
    """`stdio`, `pty` or `tcp:PORT`; raises ValueError naming the valid forms."""
    if spec == "stdio":
        return StdioConsole()
    if spec == "pty":
        return PtyConsole()
    kind, _, port = spec.partition(":")
    if kind == "tcp" and port.isdigit() and int(port) < 65536:
        return TcpConsole(int(port))
    raise ValueError(f"bad console {spec!r}; use stdio, pty or tcp:PORT")
