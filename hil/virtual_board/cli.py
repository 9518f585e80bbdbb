"""`teddy-hil virtual-board`: serve a virtual ESP32 dev board on a TCP port.

Owns the command line: parse options, start `VirtualBoard` (socket://) or `Rfc2217Board`
(rfc2217://), print the address esptool and the `serial` target use, run until Ctrl-C /
SIGTERM.
The lead wires `main` into `hil.cli` as the `virtual-board` subcommand.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from emulator.core.timing import DeviceTiming
from emulator.signals import stop_event_on_signals
from hil.serial.bench import WIRED_CAPABILITIES
from hil.virtual_board.board import (
    DEFAULT_MAC,
    DEFAULT_WINDOW_S,
    DEFAULT_WIRING,
    BoardConfig,
    VirtualBoard,
)
from hil.virtual_board.errors import VirtualBoardError
from hil.virtual_board.rfc2217 import Rfc2217Board

SCHEMES: dict[str, type[VirtualBoard] | type[Rfc2217Board]] = {
    "socket": VirtualBoard,
    "rfc2217": Rfc2217Board,
}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="teddy-hil virtual-board",
        description="A virtual ESP32 that real esptool flashes and that boots the emulator.",
    )
    p.add_argument(
        "--listen",
        default="socket://127.0.0.1:0",
        help="socket://HOST:PORT (each connection is a power-on) or rfc2217://HOST:PORT"
        " (DTR/RTS reset it into the ROM loader or the app, as esp_rfc2217_server does)",
    )
    p.add_argument("--dir", type=Path, required=True, help="board directory (flash.bin, ...)")
    p.add_argument("--server", required=True, help="reference server URL for run mode")
    p.add_argument("--mac", default=DEFAULT_MAC.hex(":"), help="base MAC in the eFuses")
    p.add_argument("--device-id", default=None, help="default: Teddy-ESP32-<MAC[2:]>")
    p.add_argument(
        "--download-window",
        type=float,
        default=DEFAULT_WINDOW_S,
        help="seconds after connect in which a SLIP frame selects download mode",
    )
    p.add_argument(
        "--timing",
        choices=("fast", "real"),
        default="real",
        help="device timers: real-board values (default) or the emulator's fast test values",
    )
    p.add_argument(
        "--wiring",
        default=",".join(DEFAULT_WIRING),
        help="what the board says is wired at boot (`board: wiring:` line, read by the serial"
        f" target without a bench file); comma list of {', '.join(WIRED_CAPABILITIES)}, or ''",
    )
    return p


def parse_listen(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of `socket://HOST:PORT` or `rfc2217://HOST:PORT`."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in SCHEMES:
        raise VirtualBoardError(
            f"--listen {url!r}: expected socket://HOST:PORT or rfc2217://HOST:PORT"
        )
    host, sep, port = rest.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise VirtualBoardError(f"--listen {url!r}: expected {scheme}://HOST:PORT")
    return scheme, host, int(port)


def parse_wiring(text: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = set(names) - set(WIRED_CAPABILITIES)
    if unknown:
        raise VirtualBoardError(
            f"--wiring: unknown {', '.join(sorted(unknown))};"
            f" valid: {', '.join(WIRED_CAPABILITIES)}"
        )
    return names


def parse_mac(text: str) -> bytes:
    raw = text.replace(":", "").replace("-", "")
    try:
        mac = bytes.fromhex(raw)
    except ValueError:
        mac = b""
    if len(mac) != 6:
        raise VirtualBoardError(f"--mac {text!r}: expected 6 bytes like 24:0a:c4:a7:95:ba")
    return mac


async def serve(board: VirtualBoard | Rfc2217Board) -> None:
    await board.start()
    print(f"virtual board listening on {board.url}", flush=True)
    stop = stop_event_on_signals()
    try:
        await stop.wait()
    finally:
        await board.stop()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        scheme, host, port = parse_listen(args.listen)
        config = BoardConfig(
            directory=args.dir,
            server_url=args.server,
            mac=parse_mac(args.mac),
            device_id=args.device_id,
            download_window=args.download_window,
            timing=DeviceTiming() if args.timing == "fast" else DeviceTiming.realistic(),
            wiring=parse_wiring(args.wiring),
        )
        board = SCHEMES[scheme](config, host=host, port=port)
        asyncio.run(serve(board))
    except VirtualBoardError as exc:
        print(f"teddy-hil virtual-board: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"teddy-hil virtual-board: cannot listen on {args.listen}: {exc}", file=sys.stderr)
        return 2
    return 0
