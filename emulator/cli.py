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
import dataclasses
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from emulator.console import Console, make_console
from emulator.core.timing import DeviceTiming
from emulator.host import DeviceSettings, EmulatorHost
from emulator.signals import stop_event_on_signals
from protocol.device import parse_quirk, setting_problem
from protocol.device_model import HOST_OPTIONS, SETTINGS, TIMING, SettingSpec

# The device model's options this program takes (the others are teddy-fw-host's).
_OPTIONS = tuple(o for o in HOST_OPTIONS if "emulator" in o.hosts)
_SETTINGS = tuple(s for s in SETTINGS if "emulator" in s.hosts)
_PATHS = ("flash", "audio")


def _checked(spec: SettingSpec) -> Callable[[str], object]:
    """An argparse `type` that enforces the model's type, limits, choices and pattern."""

    def convert(text: str) -> object:
        value: object = text
        if spec.type in ("int", "optional_int"):
            try:
                value = int(text)
            except ValueError:
                raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        problem = setting_problem(spec, value)
        if problem is not None:
            raise argparse.ArgumentTypeError(problem)
        return Path(text) if spec.name in _PATHS else value

    convert.__name__ = spec.type  # argparse names it in "invalid <type> value"
    return convert


def _add(parser: argparse.ArgumentParser, spec: SettingSpec) -> None:
    """One flag with the model's help, type, choices and (command-line) default."""
    default = spec.cli_default if spec.cli_default is not None else spec.default
    kwargs: dict[str, object] = {"help": spec.help, "dest": spec.name}
    if spec.repeat:
        kwargs.update(action="append", default=[])
    elif spec.required:
        kwargs.update(required=True)
    else:
        kwargs.update(default=default)
    metavar = spec.metavar or ("|".join(spec.choices) if 0 < len(spec.choices) < 4 else None)
    if metavar is not None:
        kwargs.update(metavar=metavar)
    kwargs.update(type=_checked(spec))
    if not spec.repeat and not spec.required and default is not None:
        kwargs["help"] = f"{spec.help} (default: {default})"
    parser.add_argument(spec.flag, **kwargs)  # type: ignore[arg-type]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="teddy-emulator", description="An emulated AI Teddy Bear board (SPEC §8, §9)."
    )
    for spec in (*_OPTIONS, *_SETTINGS):
        _add(p, spec)
    return p


def _timing(args: argparse.Namespace) -> DeviceTiming:
    """The --timing profile, then each --timing-set NAME=VALUE (the model's fields)."""
    timing = DeviceTiming() if args.timing == "fast" else DeviceTiming.realistic()
    kinds = {t.name: t.kind for t in TIMING}
    changes: dict[str, int | float] = {}
    for item in args.timing_set:
        name, sep, raw = item.partition("=")
        if not sep or name not in kinds:
            valid = ", ".join(kinds)
            raise ValueError(
                f"--timing-set wants NAME=VALUE with NAME one of {valid}; got {item!r}"
            )
        try:
            value = float(raw) if kinds[name] == "ratio" else int(raw)
        except ValueError:
            raise ValueError(f"--timing-set {name}: not a number: {raw!r}") from None
        if value < 0:
            raise ValueError(f"--timing-set {name}: must not be negative")
        changes[name] = value
    return dataclasses.replace(timing, **changes)  # type: ignore[arg-type]


def settings_from(args: argparse.Namespace) -> DeviceSettings:
    values = {spec.name: getattr(args, spec.name) for spec in _SETTINGS}
    try:
        quirks = tuple(parse_quirk(item) for item in args.quirk)  # SPEC Appendix C
    except ValueError as exc:
        raise ValueError(f"--quirk: {exc}") from None
    return DeviceSettings(
        server_url=args.server,
        flash_dir=args.flash,
        audio_dir=args.audio or args.flash / "audio",
        timing=_timing(args),
        quirks=quirks,
        **values,
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
        settings = settings_from(args)
    except SystemExit as exc:  # argparse already printed the usage error
        return int(exc.code or 0) if isinstance(exc.code, int) else 2
    except ValueError as exc:
        print(f"teddy-emulator: {exc}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(run(settings, console))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
