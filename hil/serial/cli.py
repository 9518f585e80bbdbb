"""`teddy-hil boards` and `teddy-hil flash`: argv in, exit code out (0 ok, 1 failed, 2 usage).

`boards` lists attached ports and the bench entry each matches (and entries that match
nothing, so a missing board is visible). `flash` locks the board (same lease as a run),
connects through esptool and prints the `FlashReport`: each image written or skipped,
and why. esptool's own output goes to `--log` (default `flash.log` in the cwd's
`artifacts/`), errors are one line.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from hil.errors import HilError
from hil.serial.bench import DEFAULT_LOCK_DIR, Bench, BoardEntry, load_bench
from hil.serial.boards import attached_ports, match_bench, probe_mac, resolve_port
from hil.serial.flashing import FlashRequest, connect, flash_board
from hil.serial.lock import BoardLock
from hil.serial.restore import esptool_before

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
ENV_BENCH = "TEDDY_BENCH"


def _bench(path: Path | None) -> Bench | None:
    chosen = path or (Path(os.environ[ENV_BENCH]) if os.environ.get(ENV_BENCH) else None)
    return load_bench(chosen) if chosen else None


def boards_main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    stream = out or sys.stdout
    parser = argparse.ArgumentParser(prog="teddy-hil boards", description=boards_main.__doc__)
    parser.add_argument("--bench", type=Path, help=f"bench file (default ${ENV_BENCH})")
    parser.add_argument("--probe", action="store_true", help="read MACs with esptool (resets!)")
    args = parser.parse_args(argv)
    try:
        bench = _bench(args.bench)
        ports = attached_ports()
        if args.probe:
            ports = [p.__class__(**{**p.__dict__, "mac": probe_mac(p.device)}) for p in ports]
        matches = match_bench(bench, ports)
    except HilError as exc:
        print(f"teddy-hil boards: {exc}", file=stream)
        return EXIT_FAILED
    if not matches:
        print("no serial ports attached (and no bench file)", file=stream)
    for match in matches:
        where = match.port.summary() if match.port else "(not attached)"
        if match.entry is None:
            what = "-> no bench entry"
        elif match.how:
            what = f"-> {match.entry.name} (by {match.how})"
        else:
            what = f"{match.entry.describe()}: no attached port matches"
        print(f"{where} {what}".strip(), file=stream)
    return EXIT_OK


def _flash_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="teddy-hil flash", description="flash a board")
    parser.add_argument("app", type=Path, help="app image (.bin) for the first app slot")
    parser.add_argument("--port", help="pyserial URL/device (default: the bench entry's)")
    parser.add_argument("--bench", type=Path, help=f"bench file (default ${ENV_BENCH})")
    parser.add_argument("--board", help="bench entry name")
    parser.add_argument("--bootloader", type=Path, help="also write this bootloader")
    parser.add_argument(
        "--partition-table",
        type=Path,
        help="also write this table at 0x8000 (.bin, or .csv converted like gen_esp32part)",
    )
    parser.add_argument("--app-offset", type=lambda s: int(s, 0), help="override the slot")
    parser.add_argument("--erase-nvs", action="store_true", help="erase the nvs partition")
    parser.add_argument("--force", action="store_true", help="write even if unchanged")
    parser.add_argument("--no-stub", action="store_true", help="talk to the ROM loader only")
    parser.add_argument(
        "--before", help="esptool --before (default: the bench's; no-reset for socket:// boards)"
    )
    parser.add_argument("--log", type=Path, default=Path("artifacts/flash.log"))
    parser.add_argument("--lock-wait", type=float, default=60.0, help="seconds to queue")
    return parser


def _entry(args: argparse.Namespace, bench: Bench | None) -> BoardEntry:
    if bench is not None and args.board:
        return bench.board(args.board)
    if args.port:
        same = [e for e in bench.boards if e.port == args.port] if bench else []
        if same:
            return same[0]
        name = "".join(c if c.isalnum() or c in "._-" else "_" for c in args.port).strip("_")
        reset = "reconnect" if args.port.startswith("socket://") else "classic"
        return BoardEntry(name=name[:64] or "board", port=args.port, chip="esp32", reset=reset)
    raise HilError("say which board: --port URL, or --bench FILE --board NAME")


def flash_main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    stream = out or sys.stdout
    args = _flash_parser().parse_args(argv)
    try:
        bench = _bench(args.bench)
        entry = _entry(args, bench)
        port = args.port or resolve_port(entry)
        lock_dir = bench.lock_dir if bench else DEFAULT_LOCK_DIR
        request = FlashRequest(
            app=args.app,
            bootloader=args.bootloader,
            partition_table=args.partition_table,
            layout_table=entry.flash.partition_table,
            app_offset=args.app_offset if args.app_offset is not None else entry.flash.app_offset,
            erase_nvs=args.erase_nvs,
            force=args.force,
        )
        args.log.parent.mkdir(parents=True, exist_ok=True)
        lock = BoardLock(entry.name, lock_dir=lock_dir, purpose="teddy-hil flash")
        lock.acquire(wait_s=args.lock_wait)
        try:
            with args.log.open("a", encoding="utf-8") as log:
                loader = connect(
                    port,
                    chip=entry.chip if bench else None,
                    baud=entry.flash.baud,
                    stub=entry.flash.stub and not args.no_stub,
                    before=args.before or esptool_before(entry),
                    log=log,
                )
                try:
                    report = flash_board(loader, request, board=entry.name)
                finally:
                    loader.finish(reset=True)
        finally:
            lock.release()
    except HilError as exc:
        print(f"teddy-hil flash: {exc}", file=stream)
        return EXIT_FAILED
    print(report.text(), file=stream)
    return EXIT_OK
