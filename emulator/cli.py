"""`teddy-emulator`: run one emulated board with its console on stdio, a pty or TCP.

Owns the command line. The board boots when its console is ready (for TCP: when the
first client connects, like a USB-serial board resetting on DTR) and runs until SIGINT
or SIGTERM (or the end of stdin with `--console stdio`). Informational lines (the pty
path, the TCP port) go to stdout before the board starts; with `--console stdio` the
board's own lines follow on stdout.

    teddy-emulator --server http://127.0.0.1:8000 --flash ./flash --console tcp:0
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from emulator.console import Console, make_console
from emulator.core.timing import DeviceTiming
from emulator.host import DeviceSettings, EmulatorHost
from emulator.signals import stop_event_on_signals


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="teddy-emulator", description="An emulated AI Teddy Bear board (SPEC §8, §9)."
    )
    p.add_argument("--server", required=True, help="base URL, e.g. http://127.0.0.1:8000")
    p.add_argument("--flash", required=True, type=Path, help="flash directory (created)")
    p.add_argument("--audio", type=Path, help="audio directory (default: <flash>/audio)")
    p.add_argument("--console", default="stdio", help="stdio | pty | tcp:PORT (0 = any)")
    p.add_argument("--device-id", default="Teddy-ESP32-0001")
    p.add_argument("--child-id", default="child-001")
    p.add_argument("--child-name", default="Mia")
    p.add_argument("--child-age", type=int, default=7)
    p.add_argument("--oob-secret", help="64 hex chars (default: the seed derivation)")
    p.add_argument("--firmware-version", default="1.0.0", help="factory image version")
    p.add_argument("--chip", default="esp32")
    p.add_argument("--secure-version", type=int, default=0)
    p.add_argument("--pacing", choices=("fast", "realtime"), default="realtime")
    p.add_argument(
        "--timing", choices=("fast", "real"), default="real", help="retry/backoff timing"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--microphone", default="phrase:hello teddy", help="`button` source")
    return p


def settings_from(args: argparse.Namespace) -> DeviceSettings:
    timing = DeviceTiming() if args.timing == "fast" else DeviceTiming.realistic()
    return DeviceSettings(
        server_url=args.server,
        flash_dir=args.flash,
        audio_dir=args.audio or args.flash / "audio",
        device_id=args.device_id,
        child_id=args.child_id,
        child_name=args.child_name,
        child_age=args.child_age,
        oob_secret=args.oob_secret,
        firmware_version=args.firmware_version,
        chip=args.chip,
        secure_version=args.secure_version,
        pacing=args.pacing,
        timing=timing,
        seed=args.seed,
        microphone=args.microphone,
    )


async def _pump_input(console: Console, host: EmulatorHost, stop: asyncio.Event) -> None:
    while True:
        line = await console.inbox.get()
        if line is None:
            stop.set()
            return
        await host.write_line(line)


async def run(settings: DeviceSettings, console: Console) -> int:
    stop = stop_event_on_signals()
    print(await console.open(), flush=True)
    host = EmulatorHost(settings, on_line=console.write_line)
    waiter = asyncio.create_task(console.client_ready.wait())
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    pump: asyncio.Task[None] | None = None
    if not stop.is_set():
        await host.start()
        pump = asyncio.create_task(_pump_input(console, host, stop))
        await stop.wait()
    stopper.cancel()
    if pump is not None:
        pump.cancel()
    await host.stop()
    await console.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `teddy-emulator`; returns the process exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        console = make_console(args.console)
    except SystemExit as exc:  # argparse already printed the usage error
        return int(exc.code or 0) if isinstance(exc.code, int) else 2
    except ValueError as exc:
        print(f"teddy-emulator: {exc}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(run(settings_from(args), console))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
