"""The virtual flash: durable NVS, slots, otadata and efuses across "power cuts"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emulator.core.boot import BootDecision, Rollback
from emulator.errors import FlashError
from emulator.flash import Flash
from protocol.image import build_app_image

pytestmark = pytest.mark.unit


def test_every_write_is_visible_to_the_next_boot(tmp_path: Path) -> None:
    flash = Flash(tmp_path)
    flash.nvs_set("settings", "child_age", 9)
    flash.nvs_set("auth", "access_token", "a")
    flash.write_slot("ota_1", 0, b"abcdef")
    flash.write_slot("ota_1", 3, b"XY")  # a resumed write: the slot now ends there
    del flash  # power cut: no close, no flush
    again = Flash(tmp_path)
    assert again.load_nvs() == {"settings": {"child_age": 9}, "auth": {"access_token": "a"}}
    assert again.read_slot("ota_1") == b"abcXY" and again.read_slot("ota_1", 0, 2) == b"ab"
    assert again.read_slot("ota_1", 2, 2) == b"cX"
    again.nvs_erase("auth")
    again.nvs_erase("settings", "child_age")
    assert Flash(tmp_path).load_nvs() == {"settings": {}}
    assert not list(tmp_path.glob("*.tmp"))
    assert set(json.loads((tmp_path / "partitions.json").read_text())) == {
        "nvs",
        "otadata",
        "ota_0",
        "ota_1",
    }


def test_factory_image_otadata_and_anti_rollback(tmp_path: Path) -> None:
    flash = Flash(tmp_path)
    assert flash.is_blank()
    flash.write_factory(build_app_image(version="1.0.0", secure_version=1), secure_version=1)
    flash.write_slot("ota_1", 0, build_app_image(version="1.1.0", secure_version=3))
    flash.set_boot("ota_1")
    infos = flash.slot_infos()
    assert (infos["ota_0"].state, infos["ota_0"].version, infos["ota_0"].seq) == (
        "valid",
        "1.0.0",
        1,
    )
    assert (infos["ota_1"].state, infos["ota_1"].seq, infos["ota_1"].secure_version) == (
        "new",
        2,
        3,
    )
    assert flash.efuse_secure_version() == 1
    flash.mark_valid("ota_1", 3)
    flash.mark_valid("ota_0", 2)  # the counter never goes down
    assert flash.efuse_secure_version() == 3
    flash.erase_slot("ota_1")
    assert flash.slot_infos()["ota_1"].version is None and flash.read_slot("ota_1") == b""


def test_rollback_report_is_kept_until_acknowledged(tmp_path: Path) -> None:
    flash = Flash(tmp_path)
    report = Rollback("1.1.0", "1.0.0", "not_confirmed")
    decision = BootDecision("ota_0", False, {"ota_1": ("aborted", "not_confirmed")}, report)
    assert flash.apply_boot(decision) == report
    assert flash.slot_infos()["ota_1"].state == "aborted"
    assert flash.apply_boot(BootDecision("ota_0", False)) == report  # cut before the ack
    flash.ack_rollback()
    assert flash.apply_boot(BootDecision("ota_0", False)) is None


def test_bad_slot_and_oversize_writes_are_flash_errors(tmp_path: Path) -> None:
    flash = Flash(tmp_path)
    with pytest.raises(FlashError, match="no app slot"):
        flash.read_slot("factory")
    with pytest.raises(FlashError, match="past the end"):
        flash.write_slot("ota_0", 0x180000 - 1, b"ab")
    (tmp_path / "nvs.json").write_text("{broken")
    with pytest.raises(FlashError, match="unreadable"):
        flash.load_nvs()
