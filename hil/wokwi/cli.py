"""Running the local Wokwi-protocol server: `teddy-hil wokwi-server`, or on a thread.

Both run `WokwiServer` on a `GatewayLoop`, the event loop whose resolver maps
`host.wokwi.internal` to 127.0.0.1 for the simulated boards' HTTP and WebSocket
connections (what Wokwi's private gateway does). The command prints the URL to export as
`WOKWI_CLI_SERVER` and serves until Ctrl-C / SIGTERM; `BackgroundServer` is the same on
a daemon thread, for tests and for embedding in a Python process.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import threading
from pathlib import Path
from types import TracebackType
from typing import Final

from emulator.core.timing import DeviceTiming
from emulator.signals import stop_event_on_signals
from hil.wokwi.server import DEFAULT_FIRMWARE_SERVER, ServerConfig, WokwiServer
from hil.wokwi.simboard import GatewayLoop

START_TIMEOUT_S: Final = 30.0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="teddy-hil wokwi-server",
        description=(
            "A local server speaking Wokwi's simulation API (as wokwi-client uses it);"
            " it runs uploaded teddy firmware on the Python emulator."
        ),
    )
    p.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT (default: a free port)")
    p.add_argument("--dir", type=Path, help="work folder (default: a temporary folder)")
    p.add_argument(
        "--firmware-server",
        default=DEFAULT_FIRMWARE_SERVER,
        help="the server URL compiled into the firmware (before `set server`)",
    )
    p.add_argument("--token", help="accept only this token (default: any non-empty token)")
    p.add_argument("--timing", choices=("fast", "real"), default="real")
    return p


def parse_listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"--listen {text!r}: expected HOST:PORT")
    return host, int(port)


async def serve(server: WokwiServer) -> None:
    stop = stop_event_on_signals()  # before the URL is printed: a caller may stop us at once
    await server.start()
    print(f"wokwi server listening on {server.url}", flush=True)
    print(f"  export WOKWI_CLI_SERVER={server.url} WOKWI_CLI_TOKEN=local", flush=True)
    try:
        await stop.wait()
    finally:
        await server.stop()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        host, port = parse_listen(args.listen)
    except ValueError as exc:
        print(f"teddy-hil wokwi-server: {exc}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="teddy-wokwi-") as scratch:
        config = ServerConfig(
            directory=args.dir or Path(scratch),
            firmware_server_url=args.firmware_server,
            token=args.token,
            timing=DeviceTiming() if args.timing == "fast" else DeviceTiming.realistic(),
        )
        server = WokwiServer(config, host=host, port=port)
        try:
            with asyncio.Runner(loop_factory=GatewayLoop) as runner:
                runner.run(serve(server))
        except OSError as exc:
            print(f"teddy-hil wokwi-server: cannot listen on {args.listen}: {exc}", file=sys.stderr)
            return 2
    return 0


class BackgroundServer:
    """`with BackgroundServer(config) as url:` a server on its own thread and loop."""

    def __init__(self, config: ServerConfig) -> None:
        self.server = WokwiServer(config)
        self._loop = GatewayLoop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wokwi-server", daemon=True)
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._main())
        except BaseException as exc:  # reported by __enter__ / __exit__
            self._error = exc
            self._ready.set()
        finally:
            self._loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        await self.server.start()
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            for sim in list(self.server.simulations):
                await sim.close()
            await self.server.stop()

    def __enter__(self) -> str:
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_S) or self._error is not None:
            raise RuntimeError(f"the local Wokwi server did not start: {self._error}")
        return self.server.url

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        stop = self._stop
        if stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(stop.set)
        self._thread.join(START_TIMEOUT_S)
