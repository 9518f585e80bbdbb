"""Flashing a board through esptool's Python API, skipping what the board already holds.

`flash_board` writes the app to its slot, and on request the bootloader, the partition
table and an NVS erase. Before writing an image it asks the board for the MD5 of that
flash region (`SPI_FLASH_MD5`, what `esptool verify-flash` uses): when it equals the
image's MD5 nothing is written and the report says so. The check is made on the board,
not in a cache (pytest-embedded caches port->app, which is wrong after a manual flash
or an OTA). An app written into a table with OTA slots also clears `otadata`, so the
bootloader starts the slot just written (`idf.py flash` does the same with
ota_data_initial.bin); a stale otadata is detected by MD5 too.

esptool is reached through the small `Loader` protocol so the skip logic is tested
with a fake; `EsptoolLoader` is the real one (its output goes to the flash log).
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final, Protocol, TextIO

from hil.serial.errors import FlashError, NotAnEspError, PortError
from hil.serial.partitions import (
    REPO_TABLE,
    TABLE_MAX,
    TABLE_OFFSET,
    Layout,
    Partition,
    idf_two_ota_layout,
    load_table,
    parse_binary,
    table_image,
    to_binary,
)
from protocol.errors import ProtocolError
from protocol.image import HEADER_PEEK_LEN, AppDescriptor, peek_app_header

BOOTLOADER_OFFSETS: Final = {"esp32": 0x1000, "esp32s2": 0x1000}  # others: 0x0
SUBTYPE_OTA_DATA: Final = 0x00
SUBTYPE_NVS: Final = 0x02


class Loader(Protocol):
    """What flashing needs from a connected ROM loader / stub."""

    chip: str  # esptool's chip name, lower-case without dashes ("esp32")

    def md5(self, offset: int, size: int) -> str: ...
    def read(self, offset: int, size: int) -> bytes: ...
    def write(self, offset: int, data: bytes) -> None: ...
    def erase(self, offset: int, size: int) -> None: ...
    def mac(self) -> str: ...
    def finish(self, *, reset: bool) -> None: ...


@dataclass(frozen=True)
class FlashRequest:
    app: Path
    bootloader: Path | None = None
    partition_table: Path | None = None  # binary to write (and the layout to use)
    layout_table: Path | None = None  # CSV/binary only for the layout (bench setting)
    app_offset: int | None = None
    erase_nvs: bool = False
    force: bool = False  # write even when the board already holds the image


@dataclass(frozen=True)
class Action:
    what: str  # "app", "bootloader", "partition-table", "otadata", "nvs"
    offset: int
    size: int
    done: str  # "written", "skipped", "erased"
    why: str
    seconds: float

    def line(self) -> str:
        return (
            f"{self.what:<15} 0x{self.offset:06x} {self.size:>8} B  {self.done:<7}"
            f" {self.seconds:5.2f} s  {self.why}"
        )


@dataclass
class FlashReport:
    board: str
    chip: str
    mac: str
    layout: str
    actions: list[Action] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def wrote_anything(self) -> bool:
        return any(a.done != "skipped" for a in self.actions)

    def text(self) -> str:
        head = f"{self.board}: {self.chip}, mac {self.mac}, partition table from {self.layout}"
        verdict = "flashed" if self.wrote_anything else "nothing written: board already up to date"
        body = "\n".join(f"  {a.line()}" for a in self.actions)
        return f"{head}\n{body}\n{verdict} in {self.seconds:.2f} s"


def image_md5(data: bytes) -> str:
    """MD5 as esptool verifies it: the image padded to 4 bytes with 0xFF."""
    return hashlib.md5(data + b"\xff" * (-len(data) % 4), usedforsecurity=False).hexdigest()


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise FlashError(f"cannot read the {what} image {path}: {exc.strerror}") from None


def _board_table(loader: Loader) -> Layout | None:
    try:
        return parse_binary(loader.read(TABLE_OFFSET, TABLE_MAX), source="the board (0x8000)")
    except FlashError:
        return None


def board_layout(loader: Loader, request: FlashRequest) -> Layout:
    """The table being written, else the bench's, else the board's own, else the repo's."""
    for table in (request.partition_table, request.layout_table):
        if table is not None:
            return load_table(table)
    return _board_table(loader) or load_table(REPO_TABLE)


def _place(loader: Loader, what: str, offset: int, data: bytes, *, force: bool) -> Action:
    began = time.monotonic()
    expected = image_md5(data)
    on_board = loader.md5(offset, len(data) + (-len(data) % 4))
    if on_board == expected and not force:
        why = f"board already holds it: flash MD5 {on_board} at 0x{offset:x} equals the image's"
        return Action(what, offset, len(data), "skipped", why, time.monotonic() - began)
    loader.write(offset, data)
    written = loader.md5(offset, len(data) + (-len(data) % 4))
    if written != expected:
        raise FlashError(
            f"{what} at 0x{offset:x}: flash MD5 {written} after writing, image {expected};"
            " check the power supply and try a lower flash baud"
        )
    why = "forced" if force and on_board == expected else f"board had MD5 {on_board}"
    return Action(what, offset, len(data), "written", why, time.monotonic() - began)


def _erase(loader: Loader, what: str, part: Partition, *, only_if_dirty: bool) -> Action:
    began = time.monotonic()
    blank = image_md5(b"\xff" * part.size)
    if only_if_dirty and loader.md5(part.offset, part.size) == blank:
        why = "already erased: the bootloader starts the first app slot"
        return Action(what, part.offset, part.size, "skipped", why, time.monotonic() - began)
    loader.erase(part.offset, part.size)
    why = "on request" if not only_if_dirty else "so the bootloader starts the slot just written"
    return Action(what, part.offset, part.size, "erased", why, time.monotonic() - began)


def _overlaps(part: Partition, offset: int, size: int) -> bool:
    return part.offset < offset + size and offset < part.offset + part.size


def flash_board(loader: Loader, request: FlashRequest, *, board: str) -> FlashReport:
    """Bring the board to the requested images; every step and why is in the report."""
    began = time.monotonic()
    app = _read(request.app, "app")
    if app[:1] != b"\xe9":
        raise FlashError(f"{request.app} is not an ESP app image (first byte is not 0xE9)")
    layout = board_layout(loader, request)
    report = FlashReport(board=board, chip=loader.chip, mac=loader.mac(), layout=layout.source)
    if request.bootloader is not None:
        offset = BOOTLOADER_OFFSETS.get(loader.chip, 0x0)
        data = _read(request.bootloader, "bootloader")
        report.actions.append(_place(loader, "bootloader", offset, data, force=request.force))
    if request.partition_table is not None:
        data = table_image(request.partition_table)  # a CSV is converted like gen_esp32part
        report.actions.append(
            _place(loader, "partition-table", TABLE_OFFSET, data, force=request.force)
        )
    elif layout.source == str(REPO_TABLE):
        # No table on the board: without one the bootloader finds no app at all.
        action = _place(loader, "partition-table", TABLE_OFFSET, to_binary(layout), force=False)
        why = f"the board had none; wrote {REPO_TABLE.name} so the bootloader finds the app"
        report.actions.append(replace(action, why=why))
    slot = layout.app_slot()
    offset = request.app_offset if request.app_offset is not None else slot.offset
    if request.app_offset is None and len(app) > slot.size:
        raise FlashError(
            f"{request.app} is {len(app)} B but the app slot {slot.name} holds {slot.size} B"
        )
    report.actions.append(_place(loader, "app", offset, app, force=request.force))
    otadata = layout.data(SUBTYPE_OTA_DATA)
    if otadata is not None and _overlaps(otadata, offset, len(app)):
        why = f"left alone: overlaps the app at 0x{offset:x} (the table and the offset disagree)"
        report.actions.append(Action("otadata", otadata.offset, otadata.size, "skipped", why, 0.0))
    elif otadata is not None:
        report.actions.append(_erase(loader, "otadata", otadata, only_if_dirty=True))
    if request.erase_nvs:
        nvs = layout.data(SUBTYPE_NVS)
        if nvs is None:
            raise FlashError(f"erase NVS: the partition table ({layout.source}) has no nvs")
        report.actions.append(_erase(loader, "nvs", nvs, only_if_dirty=False))
    report.seconds = time.monotonic() - began
    return report


def restore_layout(loader: Loader, *, layout_table: Path | None) -> Layout:
    """The bench's table, else the board's, else ESP-IDF's two-OTA default (the virtual board's)."""
    layout = load_table(layout_table) if layout_table else None
    return layout or _board_table(loader) or idf_two_ota_layout()


def restore_factory(loader: Loader, layout: Layout) -> Action:
    """Erase otadata when anything is in it, so the bootloader starts the first app slot.

    Undoes an OTA a previous scenario applied (SPEC §5.5) without rewriting the app: the
    flashed image is still in the first slot.
    """
    otadata = layout.data(SUBTYPE_OTA_DATA)
    if otadata is None:
        why = f"no otadata in {layout.source}: the board has one app and cannot OTA"
        return Action("otadata", 0, 0, "skipped", why, 0.0)
    action = _erase(loader, "otadata", otadata, only_if_dirty=True)
    if action.done == "erased":
        return replace(action, why="a previous run changed the boot slot (OTA); factory restored")
    return action


def flashed_app(loader: Loader, layout: Layout) -> AppDescriptor | None:
    """The app descriptor of the image in the first app slot (None: no valid image there)."""
    try:
        _header, desc = peek_app_header(loader.read(layout.app_slot().offset, HEADER_PEEK_LEN))
    except (ProtocolError, FlashError):
        return None
    return desc


# --- esptool ------------------------------------------------------------------------


class EsptoolLoader:
    """`Loader` on esptool's API: detect_chip, run_stub, flash_md5sum, write_flash."""

    def __init__(self, esp: Any, log: TextIO) -> None:
        self._esp = esp
        self._log = log
        self.chip = str(esp.CHIP_NAME).lower().replace("-", "")

    @contextlib.contextmanager
    def _quiet(self) -> Iterator[None]:
        with contextlib.redirect_stdout(self._log), contextlib.redirect_stderr(self._log):
            yield

    def md5(self, offset: int, size: int) -> str:
        with self._quiet():
            return str(self._esp.flash_md5sum(offset, size))

    def read(self, offset: int, size: int) -> bytes:
        with self._quiet():
            return bytes(self._esp.read_flash(offset, size))

    def write(self, offset: int, data: bytes) -> None:
        from esptool.cmds import write_flash

        with self._quiet():
            write_flash(self._esp, [(offset, data)], no_progress=True)

    def erase(self, offset: int, size: int) -> None:
        from esptool.cmds import erase_region

        with self._quiet():
            erase_region(self._esp, offset, size)

    def mac(self) -> str:
        with self._quiet():
            raw = self._esp.read_mac()
        return ":".join(f"{b:02x}" for b in raw) if raw else "unknown"

    def finish(self, *, reset: bool) -> None:
        try:
            if reset:
                with self._quiet():
                    self._esp.hard_reset()
        finally:
            self._esp._port.close()


def connect(
    port: str,
    *,
    chip: str | None,
    baud: int,
    stub: bool,
    before: str,
    log: TextIO,
    attempts: int = 3,
) -> EsptoolLoader:
    """A connected loader; PortError / NotAnEspError say in one line what to check."""
    from esptool.cmds import attach_flash, detect_chip, run_stub
    from esptool.util import FatalError
    from serial import SerialException

    redirect: Callable[[TextIO], contextlib.AbstractContextManager[TextIO]] = (
        contextlib.redirect_stdout
    )
    try:
        with redirect(log), contextlib.redirect_stderr(log):
            esp = detect_chip(port, 115200, before, connect_attempts=attempts)
    except FatalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "no answer"
        if "Could not open" in str(exc):
            raise PortError(
                f"cannot open {port}: no such port or it is busy; check the cable, the"
                " dialout group and `teddy-hil boards`"
            ) from None
        raise NotAnEspError(
            f"no ESP ROM loader answered on {port} ({first}); check the chip, that the"
            " auto-reset circuit works (or hold BOOT while pressing EN), and the bench reset method"
        ) from None
    except (SerialException, OSError) as exc:  # the port went away while syncing
        raise PortError(
            f"lost {port} while connecting to the ROM loader ({' '.join(str(exc).split())});"
            " check the cable and that no other program holds the port"
        ) from None
    loader_chip = str(esp.CHIP_NAME).lower().replace("-", "")
    if chip is not None and loader_chip != chip:
        esp._port.close()
        raise NotAnEspError(f"{port} holds an {esp.CHIP_NAME}, the bench says {chip}; fix `chip:`")
    with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        if stub:
            esp = run_stub(esp)
            if baud > 115200 and "://" not in port:  # a URL has no baud rate to change
                esp.change_baud(baud)
        attach_flash(esp)
    return EsptoolLoader(esp, log)
