"""`teddy-hil wokwi-server`: a local server speaking Wokwi's simulation API over WebSocket.

The protocol as wokwi-client 0.5 speaks it (wokwi_client/transport.py): on connect the
server sends `{"type": "hello", "protocolVersion": 1, "appName", "appVersion"}`; the
client sends `{"type": "command", "command", "params", "id"}` and gets
`{"type": "response", "command", "id", "result", "error"}`; the server pushes
`{"type": "event", "event", "payload", "nanos", "paused"}`. One connection is one
simulation. Commands served: `file:upload` (`binary` base64 or `text`),
`file:download`, `sim:start` (`firmware` file name or `[{offset, file}]`, `elf`,
`pause`, `flashSize`), `sim:pause`, `sim:resume` (`pauseAfter` ns), `sim:restart`,
`serial-monitor:listen`, `serial-monitor:write` (`bytes`), `control:set`
(`part`, `control`, `value`). Events: `serial-monitor:data` (`bytes`), `sim:pause`.

UART output produced before `serial-monitor:listen` is kept and sent as soon as the
listen command arrives, ahead of its response: the moment wokwi-client's own
`serial_monitor` is not subscribed yet (see `hil.wokwi.session`), so a client that starts
a running simulation and then attaches the monitor loses it, deterministically.
The token must be non-empty (or equal `--token`). A command the server refuses gets
`error: true` with `{code, message}`, as Wokwi answers.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import websockets
from websockets.server import WebSocketServer, WebSocketServerProtocol

from emulator.core.timing import DeviceTiming
from hil.errors import HilError
from hil.wokwi.project import Flash, button_part, find_app, parse_diagram
from hil.wokwi.simboard import SimBoard

log = logging.getLogger("teddy.wokwi_server")

API_PATH: Final = "/api/ws/beta"
APP_NAME: Final = "teddy-hil wokwi-server"
APP_VERSION: Final = "1.0.0"
PROTOCOL_VERSION: Final = 1
MAX_MESSAGE: Final = 64 * 1024 * 1024
DEFAULT_FIRMWARE_SERVER: Final = "http://host.wokwi.internal:8000"


class RefusedError(Exception):
    """A command the server answers with `error: true`."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class ServerConfig:
    directory: Path  # one sub-folder per simulation (the emulator's flash, audio)
    firmware_server_url: str = DEFAULT_FIRMWARE_SERVER  # the build's compiled-in server
    token: str | None = None  # None: any non-empty token
    timing: DeviceTiming = field(default_factory=DeviceTiming.realistic)


Handler = Callable[[dict[str, Any]], Awaitable[dict[str, object]]]


class Simulation:
    """One client connection: its uploaded files, its board, its serial monitor."""

    def __init__(self, config: ServerConfig, directory: Path, ws: WebSocketServerProtocol) -> None:
        self.config = config
        self.directory = directory
        self.ws = ws
        self.files: dict[str, bytes] = {}
        self.board: SimBoard | None = None
        self.listening = False
        self._unheard: list[dict[str, object]] = []  # UART output before listen
        self._outbox: asyncio.Queue[str] = asyncio.Queue()
        self.handlers: dict[str, Handler] = {
            "file:upload": self._upload,
            "file:download": self._download,
            "sim:start": self._start,
            "sim:pause": self._pause,
            "sim:resume": self._resume,
            "sim:restart": self._restart,
            "serial-monitor:listen": self._listen,
            "serial-monitor:write": self._write,
            "control:set": self._control,
        }

    # --- wire ---------------------------------------------------------------------------

    def _send(self, message: dict[str, object]) -> None:
        self._outbox.put_nowait(json.dumps(message, separators=(",", ":")))

    def emit(self, event: str, payload: dict[str, object]) -> None:
        board = self.board
        message: dict[str, object] = {
            "type": "event",
            "event": event,
            "payload": payload,
            "nanos": board.clock.nanos() if board else 0,
            "paused": board.paused if board else True,
        }
        if event == "serial-monitor:data" and not self.listening:
            self._unheard.append(message)
            return
        self._send(message)

    async def sender(self) -> None:
        while True:
            await self.ws.send(await self._outbox.get())

    async def serve(self) -> None:
        self._send(
            {
                "type": "hello",
                "protocolVersion": PROTOCOL_VERSION,
                "appName": APP_NAME,
                "appVersion": APP_VERSION,
            }
        )
        async for raw in self.ws:
            await self._command(raw)

    async def _command(self, raw: str | bytes) -> None:
        try:
            message = json.loads(raw)
            command, msg_id = str(message["command"]), str(message["id"])
            params = message.get("params") or {}
        except (ValueError, KeyError, TypeError):
            self._send({"type": "error", "message": f"not a command message: {str(raw)[:80]}"})
            return
        response: dict[str, object] = {"type": "response", "command": command, "id": msg_id}
        handler = self.handlers.get(command)
        try:
            if handler is None:
                raise RefusedError(404, f"unknown command {command!r}")
            response.update(result=await handler(params), error=False)
        except RefusedError as exc:
            response.update(result={"code": exc.code, "message": str(exc)}, error=True)
        self._send(response)

    # --- commands -----------------------------------------------------------------------

    async def _upload(self, params: dict[str, Any]) -> dict[str, object]:
        name = str(params.get("name") or "")
        if not name:
            raise RefusedError(400, "file:upload needs a name")
        if "binary" in params:
            try:
                self.files[name] = base64.b64decode(str(params["binary"]), validate=True)
            except ValueError:
                raise RefusedError(400, f"{name}: binary is not base64") from None
        elif "text" in params:
            self.files[name] = str(params["text"]).encode("utf-8")
        else:
            raise RefusedError(400, f"{name}: file:upload needs binary or text")
        return {}

    async def _download(self, params: dict[str, Any]) -> dict[str, object]:
        name = str(params.get("name") or "")
        if name not in self.files:
            raise RefusedError(404, f"no file {name!r}")
        return {"binary": base64.b64encode(self.files[name]).decode()}

    def _file(self, name: object, what: str) -> bytes:
        if not isinstance(name, str) or name not in self.files:
            uploaded = ", ".join(sorted(self.files)) or "nothing"
            raise RefusedError(400, f"{what} {name!r} was not uploaded (uploaded: {uploaded})")
        return self.files[name]

    def _flash(self, firmware: object) -> Flash:
        if isinstance(firmware, str):
            return Flash({0: self._file(firmware, "firmware")})
        if isinstance(firmware, list) and firmware:
            sections: dict[int, bytes] = {}
            for section in firmware:
                if not isinstance(section, dict) or not isinstance(section.get("offset"), int):
                    raise RefusedError(400, f"bad firmware section {section!r}")
                sections[section["offset"]] = self._file(section.get("file"), "firmware section")
            return Flash(sections)
        raise RefusedError(400, "sim:start needs firmware: a file name or [{offset, file}]")

    async def _start(self, params: dict[str, Any]) -> dict[str, object]:
        try:
            diagram = parse_diagram(self._file("diagram.json", "the diagram").decode("utf-8"))
        except (HilError, UnicodeDecodeError) as exc:
            raise RefusedError(400, str(exc)) from None
        flash = self._flash(params.get("firmware"))
        if params.get("elf") is not None:
            self._file(params["elf"], "elf")  # accepted; the emulator needs no symbols
        if self.board is not None:
            await self.board.stop()
        self.board = SimBoard(
            find_app(flash),
            directory=self.directory,
            server_url=self.config.firmware_server_url,
            button_part=button_part(diagram),
            emit=self.emit,
            timing=self.config.timing,
        )
        await self.board.start(paused=bool(params.get("pause")))
        return {}

    def _board(self) -> SimBoard:
        if self.board is None:
            raise RefusedError(409, "no simulation: send sim:start first")
        return self.board

    async def _pause(self, params: dict[str, Any]) -> dict[str, object]:
        self._board().pause()
        return {}

    async def _resume(self, params: dict[str, Any]) -> dict[str, object]:
        after = params.get("pauseAfter")
        if after is not None and not isinstance(after, int | float):
            raise RefusedError(400, f"pauseAfter must be nanoseconds, got {after!r}")
        await self._board().resume(None if after is None else int(after))
        return {}

    async def _restart(self, params: dict[str, Any]) -> dict[str, object]:
        await self._board().restart(paused=bool(params.get("pause")))
        return {}

    async def _listen(self, params: dict[str, Any]) -> dict[str, object]:
        self.listening = True
        unheard, self._unheard = self._unheard, []
        for event in unheard:  # at once, ahead of the response to `listen`
            self._send(event)
        return {}

    async def _write(self, params: dict[str, Any]) -> dict[str, object]:
        data = params.get("bytes")
        if not isinstance(data, list) or not all(isinstance(b, int) for b in data):
            raise RefusedError(400, "serial-monitor:write needs bytes: [int, ...]")
        self._board().serial_write(bytes(b & 0xFF for b in data))
        return {}

    async def _control(self, params: dict[str, Any]) -> dict[str, object]:
        value = params.get("value")
        if not isinstance(value, int | float):
            raise RefusedError(400, f"control:set value must be a number, got {value!r}")
        problem = self._board().set_control(
            str(params.get("part")), str(params.get("control")), float(value)
        )
        if problem:
            raise RefusedError(400, problem)
        return {}

    async def close(self) -> None:
        if self.board is not None:
            await self.board.stop()


class WokwiServer:
    """`await server.start()`, then `server.url` for `WOKWI_CLI_SERVER`; `await server.stop()`."""

    def __init__(self, config: ServerConfig, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config = config
        self._bind = (host, port)
        self._server: WebSocketServer | None = None
        self._ids = itertools.count(1)
        self.simulations: list[Simulation] = []

    @property
    def port(self) -> int:
        assert self._server is not None, "start() first"
        return int(next(iter(self._server.sockets)).getsockname()[1])

    @property
    def url(self) -> str:
        return f"ws://{self._bind[0]}:{self.port}{API_PATH}"

    async def start(self) -> None:
        self._server = await websockets.serve(
            self._client, *self._bind, max_size=MAX_MESSAGE, process_request=self._auth
        )

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _auth(self, path: str, headers: Any) -> tuple[int, list[Any], bytes] | None:
        scheme, _, token = str(headers.get("Authorization", "")).partition(" ")
        if scheme != "Bearer" or not token.strip():
            return 401, [], b"missing token: send Authorization: Bearer <WOKWI_CLI_TOKEN>\n"
        if self.config.token is not None and token != self.config.token:
            return 401, [], b"invalid token\n"
        return None

    async def _client(self, ws: WebSocketServerProtocol) -> None:
        directory = self.config.directory / f"sim-{next(self._ids)}"
        directory.mkdir(parents=True, exist_ok=True)
        sim = Simulation(self.config, directory, ws)
        self.simulations.append(sim)
        sender = asyncio.create_task(sim.sender())
        try:
            await sim.serve()
        except websockets.ConnectionClosed:
            log.info("client of %s went away", directory)
        finally:
            await sim.close()
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, websockets.ConnectionClosed):
                await sender
