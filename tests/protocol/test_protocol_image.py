"""protocol.image: ESP32 app images, checked against esptool's own parser (SPEC §5.3)."""

from __future__ import annotations

import re
import struct
from pathlib import Path
from typing import Any

import esptool
import pytest
from esptool.bin_image import LoadFirmwareImage
from esptool.cmds import _parse_app_info
from esptool.targets import CHIP_DEFS
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.constants import CHIP_IDS
from protocol.errors import ImageError, ProtocolError
from protocol.image import (
    APP_DESC_OFFSET,
    CHIP_LAYOUTS,
    HEADER_PEEK_LEN,
    AppDescriptor,
    build_app_image,
    flip_byte,
    peek_app_header,
    read_app_image,
    reseal,
    with_chip_id,
)
from protocol.vectors import vector_cases

pytestmark = pytest.mark.unit

READS = [c for c in vector_cases("images") if c["kind"] == "read"]


def _esptool_load(chip: str, data: bytes) -> Any:
    return LoadFirmwareImage(chip, data)


@pytest.mark.parametrize("case", READS, ids=[c["id"] for c in READS])
def test_read_vector(case: dict[str, Any]) -> None:
    data = bytes.fromhex(case["image_hex"])
    expect = case["expect"]
    if "error" in expect:
        with pytest.raises(ImageError) as info:
            read_app_image(data)
        assert info.value.reason == expect["error"]
        return
    image = read_app_image(data)
    assert image.app_desc is not None
    got = {
        "chip": image.chip,
        "chip_id": image.header.chip_id,
        "version": image.app_desc.version,
        "project_name": image.app_desc.project_name,
        "secure_version": image.app_desc.secure_version,
        "segment_count": len(image.segments),
        "length": image.length,
    }
    assert got == expect
    if "build" in case:
        args = {k: v for k, v in case["build"].items() if k != "payload_hex"}
        rebuilt = build_app_image(**args, payload=bytes.fromhex(case["build"]["payload_hex"]))
        assert rebuilt == data


@pytest.mark.parametrize("chip", sorted(CHIP_LAYOUTS))
def test_chip_tables_agree_with_esptool(chip: str) -> None:
    rom = CHIP_DEFS[chip]
    layout = CHIP_LAYOUTS[chip]
    assert rom.IMAGE_CHIP_ID == CHIP_IDS[chip] == layout.chip_id
    regions = {name for lo, hi, name in rom.MEMORY_MAP if lo <= layout.drom_base + 0x20 < hi}
    assert "DROM" in regions
    assert "IRAM" in {name for lo, hi, name in rom.MEMORY_MAP if lo <= layout.iram_base < hi}


@pytest.mark.parametrize("chip", sorted(CHIP_LAYOUTS))
def test_esptool_accepts_built_image(chip: str) -> None:
    data = build_app_image(version="1.3.0", chip=chip, secure_version=3, payload=b"x" * 1001)
    image = _esptool_load(chip, data)
    assert image.chip_id == CHIP_IDS[chip]
    assert image.checksum == image.calculate_checksum()
    assert image.append_digest and image.stored_digest == image.calc_digest
    assert image.data_length == len(data) - 32
    desc = _parse_app_info(image.segments[0].data)
    assert desc["version"] == "1.3.0" and desc["secure_version"] == 3
    assert desc["project_name"] == "teddy" and desc["mmu_page_size"] == "64 KB"


def _image_info(tmp_path: Path, data: bytes, capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    path = tmp_path / "app.bin"
    path.write_bytes(data)
    esptool.main(["image-info", str(path)])  # the CLI code path, run in-process
    out = capsys.readouterr().out
    return dict(re.findall(r"^([A-Za-z ]+): (.*)$", out, flags=re.MULTILINE))


@pytest.mark.parametrize("chip", ["esp32", "esp32s3", "esp32c3", "esp32c6"])
def test_esptool_image_info_reports_valid(
    chip: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    info = _image_info(
        tmp_path, build_app_image(version="2.0.1", chip=chip, secure_version=1), capsys
    )
    assert info["Checksum"].endswith("(valid)")
    assert info["Validation hash"].endswith("(valid)")
    assert info["App version"] == "2.0.1" and info["Secure version"] == "1"
    assert info["Chip ID"].startswith(f"{CHIP_IDS[chip]} ")


def test_esptool_image_info_sees_our_corruptions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = build_app_image(version="1.0.0", payload=b"abcd")
    bad_checksum = reseal(flip_byte(good, APP_DESC_OFFSET + 256))
    info = _image_info(tmp_path, bad_checksum, capsys)
    assert "invalid" in info["Checksum"] and info["Validation hash"].endswith("(valid)")
    info = _image_info(tmp_path, flip_byte(good, -1), capsys)
    assert info["Checksum"].endswith("(valid)") and info["Validation hash"].endswith("(invalid)")


def test_broken_images_agree_with_esptool() -> None:
    good = build_app_image(version="1.0.0", payload=b"abcd")
    truncated = good[:100]
    with pytest.raises(esptool.FatalError):
        _esptool_load("esp32", truncated)
    with pytest.raises(ImageError, match="truncated"):
        read_app_image(truncated)
    with pytest.raises(esptool.FatalError):
        _esptool_load("esp32", flip_byte(good, 0))


def test_non_strict_read_reports_problems() -> None:
    good = build_app_image(version="1.0.0", payload=b"abcd")
    image = read_app_image(reseal(flip_byte(good, APP_DESC_OFFSET + 256)), strict=False)
    assert not image.checksum_ok and image.hash_ok
    image = read_app_image(flip_byte(good, -1), strict=False)
    assert image.checksum_ok and not image.hash_ok


def test_unknown_chip_id_reads_as_none() -> None:
    image = read_app_image(with_chip_id(build_app_image(version="1.0.0"), 0x7777))
    assert image.chip is None and image.header.chip_id == 0x7777


def test_app_descriptor_layout_matches_esp_idf() -> None:
    desc = AppDescriptor(
        "1.2.3",
        "teddy",
        secure_version=7,
        min_efuse_blk_rev_full=1,
        max_efuse_blk_rev_full=299,
        mmu_page_size=16,
        spi_flash_mode=2,
    )
    raw = desc.pack()
    assert len(raw) == 256
    assert struct.unpack_from("<II", raw) == (0xABCD5432, 7)
    assert raw[16:21] == b"1.2.3" and raw[48:53] == b"teddy"
    assert struct.unpack_from("<HHBB", raw, 176) == (1, 299, 16, 2)
    assert AppDescriptor.unpack(raw) == desc


def test_peek_header() -> None:
    data = build_app_image(version="9.9.9", chip="esp32c3", secure_version=4)
    header, desc = peek_app_header(data[:HEADER_PEEK_LEN])
    assert (header.chip, desc.version, desc.secure_version) == ("esp32c3", "9.9.9", 4)
    with pytest.raises(ImageError, match="truncated"):
        peek_app_header(data[: HEADER_PEEK_LEN - 1])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"version": "1" * 32},
        {"version": "1.0.0", "chip": "esp8266"},
        {"version": "1.0.0", "project_name": "p" * 40},
        {"version": "1.0.0", "segments": [(0x40080000, b"\0\0\0\0")] * 16},
    ],
)
def test_build_refuses_impossible_images(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ProtocolError):
        build_app_image(**kwargs)


@settings(max_examples=40, deadline=None)
@given(
    chip=st.sampled_from(sorted(CHIP_LAYOUTS)),
    version=st.from_regex(r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}(-[a-z0-9.]{1,8})?", fullmatch=True),
    secure_version=st.integers(0, 2**32 - 1),
    payload=st.binary(max_size=3000),
    extra=st.lists(st.binary(min_size=1, max_size=300), max_size=4),
)
def test_build_read_esptool_round_trip(
    chip: str, version: str, secure_version: int, payload: bytes, extra: list[bytes]
) -> None:
    iram = CHIP_LAYOUTS[chip].iram_base
    segments = [(iram + 0x400 * i, data) for i, data in enumerate(extra)]
    data = build_app_image(
        version=version,
        chip=chip,
        secure_version=secure_version,
        payload=payload,
        segments=segments,
    )
    assert len(data) % 16 == 0
    image = read_app_image(data)
    assert image.app_desc is not None
    assert (image.chip, image.app_desc.version, image.app_desc.secure_version) == (
        chip,
        version,
        secure_version,
    )
    assert image.segments[0].data[256 : 256 + len(payload)] == payload
    loaded = _esptool_load(chip, data)
    assert loaded.checksum == loaded.calculate_checksum()
    assert loaded.stored_digest == loaded.calc_digest
    assert len(loaded.segments) == 1 + len(extra)
