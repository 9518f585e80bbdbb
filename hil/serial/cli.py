"""`teddy-hil boards` and `teddy-hil flash`: argv in, exit code out (0 ok, 1 failed, 2 usage).

`boards` lists attached ports and the bench entry each matches (and entries that match
nothing, so a missing board is visible). `flash` locks the board (same lease as a run),
connects through esptool and prints the `FlashReport`: each image written or skipped,
and why. esptool's own output goes to `--log` (default `flash.log` in the cwd's
`artifacts/`), errors are one line.

The board is chosen as the serial target chooses it: the flags `--port`, `--bench`,
`--board`, `--lock-wait` are those of `SerialOptions` (hil.serial.options), with the same
environment variables as defaults, read here at the edge (`env=`, else `os.environ`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final, TextIO

from hil.errors import HilError
from hil.serial.bench import Bench, BoardEntry, load_bench
from hil.serial.boards import attached_ports, match_bench, probe_mac, resolve_port
from hil.serial.flashing import FlashRequest, connect, flash_board
from hil.serial.lock import BoardLock
from hil.serial.options import SerialOptions
from hil.serial.restore import esptool_before
from hil.serial.selection import candidates, lock_dir_for
from hil.targets.edge import add_arguments, options_from

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
BOARDS_OPTIONS: Final = ("bench",)
FLASH_OPTIONS: Final = ("port", "bench", "board", "lock_wait_s", "lock_dir")


def _options(args: argparse.Namespace, env: Mapping[str, str] | None) -> SerialOptions:
    environment = os.environ if env is None else env
    return options_from(SerialOptions, lambda dest: getattr(args, dest, None), environment)


def boards_main(
    argv: Sequence[str] | None = None,
    *,
    out: TextIO | None = None,
    env: Mapping[str, str] | None = None,
) -> int:
    """List attached serial ports and the bench entries they match."""
    stream = out or sys.stdout
    parser = argparse.ArgumentParser(prog="teddy-hil boards", description=boards_main.__doc__)
    add_arguments(parser, SerialOptions, only=BOARDS_OPTIONS)
    parser.add_argument("--probe", action="store_true", help="read MACs with esptool (resets!)")
    args = parser.parse_args(argv)
    try:
        options = _options(args, env)
        bench = load_bench(options.bench) if options.bench else None
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
    add_arguments(parser, SerialOptions, only=FLASH_OPTIONS)
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
    return parser


def _entry(options: SerialOptions) -> tuple[BoardEntry, Bench | None]:
    """The one board to flash, chosen as the serial target would (hil.serial.selection)."""
    if options.port is None and options.bench is None:
        raise HilError("say which board: --port URL, or --bench FILE --board NAME")
    entries, bench = candidates({}, options)
    if len(entries) > 1:
        names = ", ".join(e.name for e in entries)
        where = bench.path if bench else "the bench"
        raise HilError(f"{where} has several boards ({names}): say which with --board NAME")
    return entries[0], bench


def flash_main(
    argv: Sequence[str] | None = None,
    *,
    out: TextIO | None = None,
    env: Mapping[str, str] | None = None,
) -> int:
    stream = out or sys.stdout
    args = _flash_parser().parse_args(argv)
    try:
        options = _options(args, env)
        entry, bench = _entry(options)
        port = options.port or resolve_port(entry)
        lock_dir = lock_dir_for(options, bench)
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
        lock.acquire(wait_s=options.lock_wait_s)
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
