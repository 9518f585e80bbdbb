"""`SerialOptions`: what the `serial` target (and `teddy-hil flash`) is told about the bench.

One frozen dataclass, filled by `teddy-hil run|flash|boards` and the pytest plugin from
their flags, with the environment variables below as defaults read at those edges only.
A board is a bench entry (`bench`, `board`; hil.serial.bench) or a bare `port`; for a bare
port `capabilities`, `reset` and `restore` stand in for what a bench entry declares.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Final

from hil.serial.audio_wiring import AudioWiring, parse_audio_option
from hil.serial.bench import RESET_METHODS, RESTORE_METHODS, WIRED_CAPABILITIES
from hil.targets.options import TargetOptions, option, path, seconds

ENV_PORT: Final = "TEDDY_SERIAL_PORT"
ENV_BENCH: Final = "TEDDY_BENCH"
ENV_BOARD: Final = "TEDDY_BOARD"
ENV_CAPS: Final = "TEDDY_SERIAL_CAPABILITIES"
ENV_RESET: Final = "TEDDY_SERIAL_RESET"
ENV_RESTORE: Final = "TEDDY_SERIAL_RESTORE"
ENV_AUDIO: Final = "TEDDY_SERIAL_AUDIO"
ENV_LOCK_WAIT: Final = "TEDDY_LOCK_WAIT"
ENV_LOCK_DIR: Final = "TEDDY_LOCK_DIR"
FROM_BOARD: Final = "board"  # --serial-capabilities board: the board's `wiring:` line decides
_NAME_RE: Final = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def capability_list(value: str) -> frozenset[str] | None:
    """`audio_in,button` -> the set; `` (empty) -> nothing wired; `board` -> not given."""
    if value.strip() == FROM_BOARD:
        return None
    return frozenset(c.strip() for c in value.split(",") if c.strip())


@dataclass(frozen=True)
class SerialOptions(TargetOptions):
    """Which board the serial target uses and how a board given only by its port behaves."""

    label: ClassVar[str] = "serial"

    port: str | None = field(
        default=None,
        metadata=option(
            flag="--port",
            env=ENV_PORT,
            metavar="URL",
            help="serial port or pyserial URL of the board (/dev/ttyUSB0, socket://, rfc2217://)",
            default_text="none: a board of the bench file",
        ),
    )
    bench: Path | None = field(
        default=None,
        metadata=option(
            flag="--bench",
            env=ENV_BENCH,
            parse=path,
            metavar="FILE",
            help="bench file: the lab's boards, how to find them, what each is wired for",
            default_text="none",
        ),
    )
    board: str | None = field(
        default=None,
        metadata=option(
            flag="--board",
            env=ENV_BOARD,
            metavar="NAME",
            help="bench entry to use (needs --bench)",
            default_text="the first free board of the bench",
        ),
    )
    capabilities: frozenset[str] | None = field(
        default=None,
        metadata=option(
            flag="--serial-capabilities",
            env=ENV_CAPS,
            parse=capability_list,
            metavar="LIST",
            help=f"what a board given by --port is wired for: comma list of"
            f" {', '.join(WIRED_CAPABILITIES)}; empty for nothing",
            default_text=f"`{FROM_BOARD}`: the board's own `board: wiring:` boot line",
        ),
    )
    reset: str | None = field(
        default=None,
        metadata=option(
            flag="--serial-reset",
            env=ENV_RESET,
            metavar="METHOD",
            help=f"how a board given by --port is reset: {', '.join(RESET_METHODS)}",
            default_text="reconnect for socket://, else classic",
        ),
    )
    restore: str = field(
        default="otadata",
        metadata=option(
            flag="--serial-restore",
            env=ENV_RESTORE,
            metavar="METHOD",
            help="factory restore before each scenario of a board given by --port:"
            f" {', '.join(RESTORE_METHODS)}",
        ),
    )
    audio: AudioWiring | None = field(
        default=None,
        metadata=option(
            flag="--serial-audio",
            env=ENV_AUDIO,
            parse=parse_audio_option,
            metavar="OUTPUT[,latency=L][,rate=R]",
            help="how the harness hears the speaker of a board given by --port:"
            " files:DIR (a board that writes out-<id>.wav, the virtual board's audio folder),"
            " sounddevice[:NAME] (a sound card at the amplifier); latency=12ms|calibrate",
            default_text="none: expect_audio scenarios are skipped",
        ),
    )
    lock_wait_s: float = field(
        default=60.0,
        metadata=option(
            flag="--lock-wait",
            env=ENV_LOCK_WAIT,
            parse=seconds,
            metavar="SECONDS",
            help="how long to queue for a board another run holds",
            default_text="60",
        ),
    )
    lock_dir: Path | None = field(
        default=None,
        metadata=option(
            flag="--lock-dir",
            env=ENV_LOCK_DIR,
            parse=path,
            metavar="DIR",
            help="folder of the board locks shared by every run on this machine",
            default_text="the bench's lock_dir, else ~/.cache/teddy-hil/locks",
        ),
    )

    def check(self) -> None:
        if self.port is not None and not self.port.strip():
            raise self.problem("port", "is empty", "give a device or a pyserial URL")
        if self.board is not None and not _NAME_RE.fullmatch(self.board):
            raise self.problem(
                "board",
                f"{self.board!r} is not a bench entry name",
                "use 1-64 of A-Z a-z 0-9 _ . -",
            )
        if self.board is not None and self.bench is None:
            raise self.problem(
                "board",
                f"names the bench entry {self.board!r} but no bench file is given",
                "pass --bench FILE (or set $TEDDY_BENCH) too",
            )
        self._check_wiring()
        if not self.lock_wait_s >= 0:  # negative, or NaN
            raise self.problem(
                "lock_wait_s", f"{self.lock_wait_s} is not >= 0", "give seconds >= 0"
            )

    def _check_wiring(self) -> None:
        unknown = sorted((self.capabilities or frozenset()) - set(WIRED_CAPABILITIES))
        if unknown:
            raise self.problem(
                "capabilities",
                f"unknown {', '.join(unknown)}",
                f"list some of {', '.join(WIRED_CAPABILITIES)} (ota, reset and power_cut follow"
                " from the reset method)",
            )
        if self.reset is not None and self.reset not in RESET_METHODS:
            raise self.problem(
                "reset",
                f"{self.reset!r} is not a reset method",
                f"use one of {', '.join(RESET_METHODS)}",
            )
        if self.restore not in RESTORE_METHODS:
            raise self.problem(
                "restore",
                f"{self.restore!r} is not a restore method",
                f"use one of {', '.join(RESTORE_METHODS)}",
            )
