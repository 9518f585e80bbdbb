"""A reference server running inside the current process, on a free loopback port.

The harness starts one per scenario (or per run) and the tests one per module: uvicorn
in a background thread with its own event loop, so synchronous and asyncio callers alike
talk to it over real HTTP and WebSocket sockets. ``start`` returns once the socket is
bound; ``stop`` waits for connections to close.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from types import TracebackType

import uvicorn

from server.app import create_app
from server.errors import ServerError
from server.serving import uvicorn_config
from server.settings import ServerSettings
from server.state import ServerState

STARTUP_TIMEOUT_S = 20.0


@dataclass
class EmbeddedServer:
    settings: ServerSettings
    state: ServerState | None = None
    host: str = "127.0.0.1"
    log_level: str = "warning"
    port: int = 0
    _server: uvicorn.Server | None = field(default=None, init=False)
    _thread: threading.Thread | None = field(default=None, init=False)
    _ready: threading.Event = field(default_factory=threading.Event, init=False)
    _error: BaseException | None = field(default=None, init=False)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    def start(self) -> EmbeddedServer:
        app = create_app(self.settings, state=self.state)
        self.state = app.state.teddy
        config = uvicorn_config(
            app,
            self.settings,
            host=self.host,
            port=self.port,
            log_level=self.log_level,
            lifespan="off",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name="teddy-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(STARTUP_TIMEOUT_S) or self._error is not None:
            self.stop()
            raise ServerError(f"embedded server did not start: {self._error!r}")
        return self

    def _run(self) -> None:
        assert self._server is not None
        try:
            asyncio.run(self._serve(self._server))
        except BaseException as exc:  # reported to start() through _error
            self._error = exc
            self._ready.set()

    async def _serve(self, server: uvicorn.Server) -> None:
        config = server.config
        if not config.loaded:
            config.load()
        server.lifespan = config.lifespan_class(config)
        await server.startup()
        if server.should_exit:
            raise ServerError(f"cannot bind {self.host}:{self.port}")
        sockets = [s for srv in server.servers for s in srv.sockets]
        self.port = sockets[0].getsockname()[1]
        self._ready.set()
        await server.main_loop()
        await server.shutdown()

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self.state is not None:
            self.state.store.close()

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
