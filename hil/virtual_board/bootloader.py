"""The virtual board's second-stage bootloader: which app partition boots, and in what state.

Owns the link between `flash.bin` (what esptool writes and reads) and the emulator's own
A/B flash (emulator/flash.py, which holds the SPEC §5.5 slot states and the rollback
report that ESP-IDF's otadata has no room for):

- The partition table is read at 0x8000 like ESP-IDF's bootloader does; a board without
  one is taken to hold ESP-IDF's default two-OTA table (ota_0 at 0x10000, otadata at
  0xd000), so `esptool write-flash 0x10000 app.bin` on a blank board boots.
- **otadata erased** (a fresh flash, `teddy-hil flash`, `esptool erase-region`): the first
  app partition boots as the factory state; the emulator's slots and states are reset
  to that one image.
- **otadata written** (an OTA happened): the emulator's states decide, as they did before
  the power-off; app images that esptool wrote meanwhile into a slot are copied into the
  emulator's slot first, so a board re-flashed behind its back runs what was flashed.
- At power-off the emulator's slots and its boot choice are written back into flash.bin
  (real `esp_ota_select_entry_t` entries, `otadata.py`), so `esptool read-flash` shows
  what a real board would hold and the serial target's factory restore (erase otadata)
  works on the virtual board exactly as on a DevKit.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from emulator.core.boot import SLOTS
from emulator.flash import Flash
from hil.serial.errors import FlashError
from hil.serial.partitions import (
    TABLE_MAX,
    TABLE_OFFSET,
    Layout,
    Partition,
    idf_two_ota_layout,
    parse_binary,
)
from hil.virtual_board import otadata as od
from hil.virtual_board.app import APP_MAX_SIZE, FlashedApp, find_app, install_factory
from hil.virtual_board.flash_image import FlashImage
from protocol.errors import ProtocolError
from protocol.image import read_app_image

SUBTYPE_OTA_DATA: Final = 0x00
LIVE_STATES: Final = ("new", "pending_verify", "valid")


def board_layout(flash: FlashImage) -> Layout:
    """The table at 0x8000, else ESP-IDF's default two-OTA table."""
    try:
        return parse_binary(flash.read(TABLE_OFFSET, TABLE_MAX), source="flash 0x8000")
    except FlashError:
        return idf_two_ota_layout()


def ota_slots(layout: Layout) -> list[Partition]:
    return sorted(
        (p for p in layout.partitions if p.is_app and 0x10 <= p.subtype < 0x20),
        key=lambda p: p.subtype,
    )


@dataclass(frozen=True)
class BootPlan:
    layout: Layout
    partition: Partition  # the app partition the bootloader starts
    factory: bool  # otadata erased/absent: the emulator is reset to this image


def plan_boot(flash: FlashImage) -> BootPlan:
    layout = board_layout(flash)
    first = layout.app_slot()
    ota = layout.data(SUBTYPE_OTA_DATA)
    slots = ota_slots(layout)
    if ota is None or not slots:
        return BootPlan(layout, first, factory=True)
    selected = od.read_selected(flash.read(ota.offset, ota.size))
    if selected is None:  # erased, or both entries corrupt: ESP-IDF starts the first app
        return BootPlan(layout, first, factory=True)
    return BootPlan(layout, slots[selected.slot_index(len(slots))], factory=False)


def prepare_emulator(flash: FlashImage, plan: BootPlan, emulator_dir: Path) -> FlashedApp | str:
    """Bring the emulator's flash in line with flash.bin; the app that boots (or why none)."""
    app = find_app(flash, plan.partition.offset, plan.partition.size)
    if isinstance(app, str):
        return app
    emulator = Flash(emulator_dir)
    if plan.factory or emulator.is_blank():
        install_factory(app, emulator_dir)
        return app
    for index, part in enumerate(ota_slots(plan.layout)[: len(SLOTS)]):
        written = find_app(flash, part.offset, part.size)
        slot = SLOTS[index]
        if isinstance(written, FlashedApp) and written.image != emulator.read_slot(slot):
            emulator.write_slot(slot, 0, written.image)  # esptool wrote it behind our back
    return app


def _live_slot(emulator: Flash) -> tuple[int, int] | None:
    """(slot index, seq) the emulator boots next, None in the factory state."""
    infos = emulator.slot_infos()
    live = [(i.seq, SLOTS.index(name)) for name, i in infos.items() if i.state in LIVE_STATES]
    if not live:
        return None
    seq, index = max(live)
    untouched = all(i.state == "empty" for name, i in infos.items() if name != SLOTS[0])
    if index == 0 and untouched and emulator.load_otadata().get("rollback") is None:
        return None  # only the factory image ever ran: leave otadata erased
    return index, seq


def write_back(flash: FlashImage, emulator_dir: Path) -> None:
    """At power-off: the emulator's images and boot choice into flash.bin's partitions."""
    layout = board_layout(flash)
    ota = layout.data(SUBTYPE_OTA_DATA)
    slots = ota_slots(layout)
    if ota is None or not slots or not (emulator_dir / "otadata.json").exists():
        return
    emulator = Flash(emulator_dir)
    live = _live_slot(emulator)
    if live is None:
        return
    for index, part in enumerate(slots[: len(SLOTS)]):
        image = emulator.read_slot(SLOTS[index])
        if _fits(image, part) and flash.read(part.offset, len(image)) != image:
            flash.erase(part.offset, len(image))
            flash.write(part.offset, image)
    index, seq = live
    state = emulator.slot_infos()[SLOTS[index]].state
    entry = od.OtaSelect(od.seq_for_slot(index, at_least=seq, ota_slots=len(slots)), state)
    flash.write(ota.offset, od.region_for(entry, ota.size))


def _fits(image: bytes, part: Partition) -> bool:
    """A complete app image that fits the partition (a partial download stays in the emulator)."""
    if not image or len(image) > min(part.size, APP_MAX_SIZE):
        return False
    try:
        read_app_image(image)
    except ProtocolError:
        return False
    return True
