"""`WireTap`: a loopback proxy in front of one server URL, recording what crosses it.

The runner starts one per scenario (hil.runner.run) in front of the scenario's reference
server and gives the target the tap's URL, so every HTTP request and WebSocket frame of
the device crosses it. The tap forwards bytes unchanged, so the `Host` the device sends
names the tap, and the server builds `device_config.websocket_url`, the config document's
`host`/`port` and manifest URLs from it (SPEC §2.2, §4.1, §5.1): the WebSocket comes back
through the tap too.

`upstream` is a URL (`http://host:port`), so a tap in front of an external server is the
same object with another URL. The runner runs `WireTap` on its own event loop; for
callers without one, `ThreadedTap` runs it on a thread of its own (like
`server.embedded.EmbeddedServer`; records reach a `WireLog` thread-safely). It is the
slower of the two under load (`python -m hil.tap.bench --thread`): every chunk then waits
for the GIL to come over from the thread that sent it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from hil.tap.errors import TapError
from hil.tap.inject import Injection
from hil.tap.recorder import Clock, Recorder, Sink
from hil.tap.records import TAP_STOP
from hil.tap.relay import TappedConnection
from hil.tap.wire_audio import WireAudio

START_TIMEOUT_S: Final = 10.0
STOP_TIMEOUT_S: Final = 5.0


@dataclass(frozen=True)
class Upstream:
    """Where the tap forwards to: an `http://host:port` URL."""

    host: str
    port: int

    @classmethod
    def parse(cls, url: str) -> Upstream:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise TapError(
                f"tap upstream {url!r}: expected http://HOST:PORT (the tap speaks plain"
                " HTTP/1.1 and WebSocket to its upstream)"
            )
        try:
            port = parts.port or 80
        except ValueError as exc:
            raise TapError(f"tap upstream {url!r}: {exc}") from exc
        return cls(parts.hostname, port)


class WireTap:
    """The proxy on the running event loop: `await start()`, `url`, `await stop()`."""

    def __init__(
        self,
        upstream: str,
        *,
        sink: Sink,
        clock: Clock,
        host: str = "127.0.0.1",
        port: int = 0,
        audio_dir: Path | None = None,
    ) -> None:
        self.upstream_url = upstream.rstrip("/")
        self.upstream = Upstream.parse(upstream)
        self.host = host
        self.port = port
        self._sink = sink
        self._clock = clock
        self._server: asyncio.Server | None = None
        self._connections: set[TappedConnection] = set()
        self._next_conn = 1
        self.problems: list[str] = []  # the tap's own failures (never a device's)
        # The audio that crossed, as WAV files (hil.tap.wire_audio); None: not kept.
        self.audio = WireAudio(audio_dir, problems=self._problem) if audio_dir else None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            self._server = await loop.create_server(self._accept, self.host, self.port)
        except OSError as exc:
            raise TapError(f"the wire tap cannot listen on {self.host}:{self.port}: {exc}") from exc
        self.port = self._server.sockets[0].getsockname()[1]

    def _accept(self) -> asyncio.Protocol:
        rec = Recorder(self._next_conn, clock=self._clock, sink=self._sink, problems=self._problem)
        audio = self.audio.connection(rec.conn) if self.audio is not None else None
        rec.audio = audio.message if audio is not None else None
        self._next_conn += 1
        upstream = (self.upstream.host, self.upstream.port)
        conn = TappedConnection(rec, upstream=upstream, on_failure=self._problem)
        self._connections.add(conn)

        def closed(_: object) -> None:
            self._connections.discard(conn)
            if audio is not None:
                audio.close()

        conn.closed.add_done_callback(closed)
        return conn.device

    def _problem(self, text: str) -> None:
        if len(self.problems) < 20:
            self.problems.append(text)

    def inject(self, injection: Injection) -> int:
        """Queue `injection` on the device's newest open WebSocket; its connection number.

        `injection.sent` resolves when the frame went out (hil.tap.inject).
        """
        open_ws = [c for c in self._connections if c.websocket_open()]
        if not open_ws:
            raise TapError("no WebSocket of the device is open through the tap")
        conn = max(open_ws, key=lambda c: c.rec.conn)
        conn.inject(injection)
        return conn.rec.conn

    async def stop(self) -> None:
        """Stop listening and end every open connection (recorded as `tap_stop`)."""
        if self._server is not None:
            self._server.close()
        for conn in list(self._connections):
            conn.abort(TAP_STOP)
        self._connections.clear()
        if self._server is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), STOP_TIMEOUT_S)
            self._server = None
        if self.audio is not None:
            self.audio.close()  # every stream's sidecar is on disk when stop returns


class ThreadedTap:
    """A `WireTap` on its own thread and event loop; `start`/`stop` block until done."""

    def __init__(self, upstream: str, *, sink: Sink, clock: Clock, host: str = "127.0.0.1") -> None:
        self.tap = WireTap(upstream, sink=sink, clock=clock, host=host)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return self.tap.url

    @property
    def ws_url(self) -> str:
        return self.tap.ws_url

    def start(self) -> ThreadedTap:
        self._thread = threading.Thread(target=self._run, name="teddy-wire-tap", daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_S):
            raise TapError(f"the wire tap did not start within {START_TIMEOUT_S:g} s")
        if self._error is not None:
            raise TapError(f"the wire tap did not start: {self._error}") from self._error
        return self

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported to start() (or lost after stop: nothing to do)
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        await self.tap.start()
        self._ready.set()
        await self._stop.wait()
        await self.tap.stop()

    def stop(self) -> None:
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop ended meanwhile
                loop.call_soon_threadsafe(stop.set)
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT_S)
            self._thread = None
