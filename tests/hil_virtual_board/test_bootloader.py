"""The virtual board's bootloader: partition table, otadata format, factory restore."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.flash import Flash
from hil.serial.partitions import REPO_TABLE, load_table, parse_binary, to_binary
from hil.virtual_board import otadata as od
from hil.virtual_board.bootloader import plan_boot, prepare_emulator, write_back
from hil.virtual_board.flash_image import FlashImage
from protocol.image import build_app_image

pytestmark = pytest.mark.unit


def test_otadata_entry_matches_esp_idf_crc_and_selection() -> None:
    # crc32_le(UINT32_MAX, &ota_seq, 4) for ota_seq = 1: bytes 9a 98 43 47 at offset 28 of
    # arduino-esp32's boot_app0.bin, the otadata every Arduino upload writes.
    assert od.entry_crc(1) == 0x4743989A
    assert od.OtaSelect(1, "undefined").pack()[28:] == bytes.fromhex("9a984347")
    region = od.region_for(od.OtaSelect(seq=4, state="valid"), 0x2000)
    assert len(region) == 0x2000 and region[:0x1000] != b"\xff" * 0x1000  # 4 % 2 -> sector 0
    selected = od.read_selected(region)
    assert selected == od.OtaSelect(4, "valid")
    assert selected.slot_index(2) == 1  # (4 - 1) % 2: ota_1
    assert od.read_selected(b"\xff" * 0x2000) is None
    corrupt = bytearray(region)
    corrupt[28] ^= 0xFF  # the crc no longer matches: ESP-IDF ignores the entry
    assert od.read_selected(bytes(corrupt)) is None
    assert od.seq_for_slot(0, at_least=2, ota_slots=2) == 3


def test_partition_table_binary_round_trip() -> None:
    layout = load_table(REPO_TABLE)
    binary = to_binary(layout)
    assert len(binary) == 0xC00 and binary[:2] == b"\xaa\x50"
    assert parse_binary(binary, source="x").partitions == layout.partitions


def _flash_with_app(tmp_path: Path, *, table: bool) -> tuple[FlashImage, bytes]:
    flash = FlashImage(tmp_path / "board")
    app = build_app_image(version="1.0.0", payload=bytes(2000))
    if table:
        flash.write(0x8000, to_binary(load_table(REPO_TABLE)))
    flash.write(0x20000 if table else 0x10000, app)
    return flash, app


def test_blank_board_uses_idf_default_table_and_boots_0x10000(tmp_path: Path) -> None:
    flash, _ = _flash_with_app(tmp_path, table=False)
    plan = plan_boot(flash)
    assert plan.partition.offset == 0x10000 and plan.factory
    assert "default two-OTA" in plan.layout.source


def test_ota_state_survives_power_off_and_erasing_otadata_restores_factory(
    tmp_path: Path,
) -> None:
    flash, app = _flash_with_app(tmp_path, table=True)
    emu_dir = tmp_path / "emulator"
    plan = plan_boot(flash)
    assert plan.partition.name == "ota_0" and plan.factory
    booted = prepare_emulator(flash, plan, emu_dir)
    assert not isinstance(booted, str) and booted.version == "1.0.0"
    write_back(flash, emu_dir)  # only the factory image ran: otadata stays erased
    assert od.is_erased(flash.read(0xF000, 0x2000))

    emulator = Flash(emu_dir)  # an OTA to 1.1.0 in ota_1, as the emulator applies it
    emulator.write_slot("ota_1", 0, build_app_image(version="1.1.0", payload=bytes(3000)))
    emulator.set_boot("ota_1")
    write_back(flash, emu_dir)
    assert od.read_selected(flash.read(0xF000, 0x2000)) == od.OtaSelect(
        2, "new"
    )  # (2 - 1) % 2 -> ota_1
    assert flash.read(0x210000, 1) == b"\xe9"  # the new image is in ota_1 of flash.bin
    plan = plan_boot(flash)
    assert plan.partition.name == "ota_1" and not plan.factory
    prepare_emulator(flash, plan, emu_dir)
    assert Flash(emu_dir).slot_infos()["ota_1"].state == "new"  # the emulator's state kept

    flash.erase(0xF000, 0x2000)  # what the serial target's factory restore does
    plan = plan_boot(flash)
    assert plan.partition.name == "ota_0" and plan.factory
    prepare_emulator(flash, plan, emu_dir)
    infos = Flash(emu_dir).slot_infos()
    assert infos["ota_0"].state == "valid" and infos["ota_1"].state == "empty"
    assert Flash(emu_dir).read_slot("ota_0") == app
