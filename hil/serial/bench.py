"""The bench file: which boards a lab machine has, how to find them and what they can do.

One YAML file per bench (the labgrid lesson: resources are passive descriptions). A
board is found by `port` (any pyserial URL), or by `usb_location`, `serial_number` or
`mac` when its /dev name changes between plug-ins (`hil.serial.boards`). Capabilities
are declared from the wiring, never assumed: `power_cut` only with a `power_switch`,
`reset` unless `reset: none`, audio only when the bench says the audio path is wired.

```yaml
version: 1
lock_dir: /var/lock/teddy-hil        # optional; default ~/.cache/teddy-hil/locks
boards:
  - name: bear-1
    port: /dev/ttyUSB0               # or usb_location / serial_number / mac
    chip: esp32
    reset: classic                   # classic | usb-jtag | reconnect | console | none
    capabilities: [audio_in, audio_out, button]
    audio: {output: "sounddevice:USB Audio", input: "sounddevice:USB Audio", latency: calibrate}
```

`load_bench` reports every problem at once (`bench.yaml: boards[1].reset: ...`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import yaml

from hil.scenario.values import parse_duration
from hil.serial.audio_wiring import AudioWiring, parse_audio_wiring
from hil.serial.errors import BenchError
from hil.targets.base import (
    AUDIO_CAPTURE,
    AUDIO_IN,
    AUDIO_OUT,
    BUTTON,
    NETWORK_FAULTS,
    OTA,
    POWER_CUT,
    RESET,
)

RESTORE_METHODS: Final = ("otadata", "none")
BEFORE_METHODS: Final = ("default-reset", "usb-reset", "no-reset", "no-reset-no-sync")
RESET_METHODS: Final = ("classic", "usb-jtag", "reconnect", "console", "none")
CHIPS: Final = ("esp32", "esp32s2", "esp32s3", "esp32c2", "esp32c3", "esp32c6", "esp32h2")
# What the wiring can add; `power_cut` and `reset` follow from power_switch / reset.
WIRED_CAPABILITIES: Final = (AUDIO_IN, AUDIO_OUT, BUTTON, NETWORK_FAULTS)
DEFAULT_LOCK_DIR: Final = Path("~/.cache/teddy-hil/locks").expanduser()
_NAME_RE: Final = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_MAC_RE: Final = re.compile(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}")
_BOARD_KEYS: Final = frozenset(
    {
        "name",
        "port",
        "usb_location",
        "serial_number",
        "mac",
        "chip",
        "reset",
        "baud",
        "boot_timeout",
        "provision",
        "restore",
        "server_host",
        "capabilities",
        "power_switch",
        "flash",
        "audio",
        "notes",
    }
)
_FLASH_KEYS: Final = frozenset({"baud", "stub", "partition_table", "app_offset", "before"})
_BENCH_KEYS: Final = frozenset({"version", "lock_dir", "boards"})


@dataclass(frozen=True)
class FlashSettings:
    baud: int = 460800  # after the stub is running; the ROM sync is always 115200
    stub: bool = True  # False = talk to the ROM loader only (esptool --no-stub)
    partition_table: Path | None = None  # CSV or binary; else read from the board
    app_offset: int | None = None  # overrides the partition table's first app slot
    before: str = "default-reset"  # esptool --before (reconnect boards: no-reset)


@dataclass(frozen=True)
class PowerSwitch:
    """Shell commands that switch the board's supply (a USB hub port, a relay)."""

    on: str
    off: str


@dataclass(frozen=True)
class BoardEntry:
    name: str
    port: str | None = None
    usb_location: str | None = None
    serial_number: str | None = None
    mac: str | None = None  # lower-case aa:bb:cc:dd:ee:ff
    chip: str = "esp32"
    reset: str = "classic"
    baud: int = 115200
    boot_timeout_s: float = 10.0
    provision: bool = True  # factory-reset + `set` the scenario's settings before each run
    restore: str = "otadata"  # before each run: erase otadata (undo an OTA), or "none"
    server_host: str | None = None  # how the board reaches this machine (not 127.0.0.1)
    wired: frozenset[str] = frozenset()
    # No bench entry and no $TEDDY_SERIAL_CAPABILITIES: the board's own `wiring:` boot line
    # (hil.serial.wiring) says what is wired; nothing is assumed without it.
    wiring_from_board: bool = False
    power_switch: PowerSwitch | None = None
    flash: FlashSettings = field(default_factory=FlashSettings)
    audio: AudioWiring = field(default_factory=AudioWiring)  # hil.serial.audio_wiring

    @property
    def capabilities(self) -> frozenset[str]:
        """What this board can do, from its wiring (capability names of hil.targets.base)."""
        caps = {OTA, *self.wired}
        if self.audio.hears_speaker:
            caps.add(AUDIO_CAPTURE)  # the harness hears the speaker (expect_audio)
        if self.reset != "none":
            caps.add(RESET)
        if self.power_switch is not None or self.reset == "reconnect":
            caps.add(POWER_CUT)  # reconnect: closing the link powers a virtual board off
        return frozenset(caps)

    def describe(self) -> str:
        keys = [
            f"{k}={v}"
            for k, v in (
                ("port", self.port),
                ("usb_location", self.usb_location),
                ("serial_number", self.serial_number),
                ("mac", self.mac),
            )
            if v
        ]
        return f"{self.name} ({', '.join(keys)})"


@dataclass(frozen=True)
class Bench:
    path: Path
    boards: tuple[BoardEntry, ...]
    lock_dir: Path = DEFAULT_LOCK_DIR

    def board(self, name: str) -> BoardEntry:
        for entry in self.boards:
            if entry.name == name:
                return entry
        names = ", ".join(b.name for b in self.boards) or "(none)"
        raise BenchError([f"{self.path}: no board named {name!r}; boards: {names}"])


class _Checker:
    """Collects problems with their key path so every one is reported at once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.problems.append(f"{self.path}: {where}: {message}")

    def unknown_keys(self, where: str, data: Mapping[str, object], valid: frozenset[str]) -> None:
        for key in sorted(set(map(str, data)) - valid):
            self.add(
                f"{where}.{key}" if where else key,
                f"unknown key; valid: {', '.join(sorted(valid))}",
            )

    def text(self, where: str, value: object) -> str | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            self.add(where, f"must be a string, got {value!r}")
            return None
        return str(value)

    def integer(self, where: str, value: object, default: int, *, low: int = 0) -> int:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            self.add(where, f"must be an integer >= {low}, got {value!r}")
            return default
        return value

    def flag(self, where: str, value: object, default: bool) -> bool:
        if value is None:
            return default
        if not isinstance(value, bool):
            self.add(where, f"must be true or false, got {value!r}")
            return default
        return value

    def seconds(self, where: str, value: object, default: float) -> float:
        if value is None:
            return default
        try:
            return parse_duration(value)
        except ValueError as exc:
            self.add(where, str(exc))
            return default


def _flash(check: _Checker, where: str, data: object, base: Path) -> FlashSettings:
    if data is None:
        return FlashSettings()
    if not isinstance(data, Mapping):
        check.add(where, "must be a mapping (baud, stub, partition_table, app_offset)")
        return FlashSettings()
    check.unknown_keys(where, data, _FLASH_KEYS)
    table = check.text(f"{where}.partition_table", data.get("partition_table"))
    offset = data.get("app_offset")
    return FlashSettings(
        baud=check.integer(f"{where}.baud", data.get("baud"), 460800, low=9600),
        stub=check.flag(f"{where}.stub", data.get("stub"), True),
        partition_table=(base / table) if table else None,
        app_offset=None if offset is None else check.integer(f"{where}.app_offset", offset, 0),
        before=_choice(check, f"{where}.before", data.get("before"), BEFORE_METHODS),
    )


def _power(check: _Checker, where: str, data: object) -> PowerSwitch | None:
    if data is None:
        return None
    if not isinstance(data, Mapping) or set(data) != {"on", "off"}:
        check.add(where, "must be a mapping with exactly `on` and `off` (shell commands)")
        return None
    on, off = check.text(f"{where}.on", data["on"]), check.text(f"{where}.off", data["off"])
    return PowerSwitch(on=on, off=off) if on and off else None


def _wired(check: _Checker, where: str, data: object) -> frozenset[str]:
    if data is None:
        return frozenset()
    if not isinstance(data, list):
        check.add(where, f"must be a list of: {', '.join(WIRED_CAPABILITIES)}")
        return frozenset()
    caps: set[str] = set()
    for value in data:
        if value in (POWER_CUT, RESET, OTA):
            check.add(where, f"{value!r} follows from power_switch/reset, do not list it")
        elif value not in WIRED_CAPABILITIES:
            check.add(
                where, f"unknown capability {value!r}; valid: {', '.join(WIRED_CAPABILITIES)}"
            )
        else:
            caps.add(str(value))
    return frozenset(caps)


def _choice(check: _Checker, where: str, value: object, valid: tuple[str, ...]) -> str:
    if value is None:
        return valid[0]
    if value not in valid:
        check.add(where, f"{value!r} is not one of {', '.join(valid)}")
        return valid[0]
    return str(value)


def _mac(check: _Checker, where: str, value: object) -> str | None:
    text = check.text(where, value)
    if text is None:
        return None
    mac = text.strip().lower().replace("-", ":")
    if not _MAC_RE.fullmatch(mac):
        check.add(where, f"{text!r} is not a MAC address like 24:6f:28:aa:bb:cc")
        return None
    return mac


def parse_board(check: _Checker, where: str, data: object, base: Path) -> BoardEntry | None:
    """One `boards:` entry; problems go to `check`, None when it is unusable."""
    if not isinstance(data, Mapping):
        check.add(where, "must be a mapping with at least `name` and a way to find the board")
        return None
    check.unknown_keys(where, data, _BOARD_KEYS)
    name = check.text(f"{where}.name", data.get("name"))
    if name is None or not _NAME_RE.fullmatch(name):
        check.add(f"{where}.name", "required: 1-64 of A-Z a-z 0-9 _ . -")
        name = None
    finders = ("port", "usb_location", "serial_number", "mac")
    if not any(data.get(k) for k in finders):
        check.add(where, f"needs one of {', '.join(finders)} to find the board")
    entry = BoardEntry(
        name=name or "?",
        port=check.text(f"{where}.port", data.get("port")),
        usb_location=check.text(f"{where}.usb_location", data.get("usb_location")),
        serial_number=check.text(f"{where}.serial_number", data.get("serial_number")),
        mac=_mac(check, f"{where}.mac", data.get("mac")),
        chip=_choice(check, f"{where}.chip", data.get("chip"), CHIPS),
        reset=_choice(check, f"{where}.reset", data.get("reset"), RESET_METHODS),
        baud=check.integer(f"{where}.baud", data.get("baud"), 115200, low=9600),
        boot_timeout_s=check.seconds(f"{where}.boot_timeout", data.get("boot_timeout"), 10.0),
        provision=check.flag(f"{where}.provision", data.get("provision"), True),
        restore=_choice(check, f"{where}.restore", data.get("restore"), RESTORE_METHODS),
        server_host=check.text(f"{where}.server_host", data.get("server_host")),
        wired=_wired(check, f"{where}.capabilities", data.get("capabilities")),
        power_switch=_power(check, f"{where}.power_switch", data.get("power_switch")),
        flash=_flash(check, f"{where}.flash", data.get("flash"), base),
        audio=parse_audio_wiring(data.get("audio"), f"{where}.audio", check.add),
    )
    return entry if name else None


def parse_bench(data: object, *, path: Path) -> Bench:
    """A bench from its parsed YAML; BenchError lists every problem."""
    check = _Checker(path)
    if not isinstance(data, Mapping):
        raise BenchError([f"{path}: must be a mapping with `version: 1` and `boards:`"])
    check.unknown_keys("", data, _BENCH_KEYS)
    if data.get("version") != 1:
        check.add("version", f"must be 1, got {data.get('version')!r}")
    raw_boards = data.get("boards")
    boards: list[BoardEntry] = []
    if not isinstance(raw_boards, list) or not raw_boards:
        check.add("boards", "must be a non-empty list of boards")
        raw_boards = []
    for index, raw in enumerate(raw_boards):
        entry = parse_board(check, f"boards[{index}]", raw, path.parent)
        if entry is not None:
            boards.append(entry)
    _check_unique(check, boards)
    lock_dir = check.text("lock_dir", data.get("lock_dir"))
    if check.problems:
        raise BenchError(check.problems)
    return Bench(
        path=path,
        boards=tuple(boards),
        lock_dir=Path(lock_dir).expanduser() if lock_dir else DEFAULT_LOCK_DIR,
    )


def _check_unique(check: _Checker, boards: list[BoardEntry]) -> None:
    for key in ("name", "port", "usb_location", "serial_number", "mac"):
        seen: dict[str, str] = {}
        for entry in boards:
            value = getattr(entry, key)
            if value is None:
                continue
            if value in seen:
                check.add("boards", f"{entry.name} and {seen[value]} have the same {key} {value!r}")
            seen[value] = entry.name


def load_bench(path: Path) -> Bench:
    """Read and check a bench file; BenchError (one line per problem) when it is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BenchError([f"{path}: cannot read the bench file: {exc.strerror or exc}"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise BenchError([f"{path}: not valid YAML: {' '.join(str(exc).split())}"]) from None
    return parse_bench(data, path=path)
