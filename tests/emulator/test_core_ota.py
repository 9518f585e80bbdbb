"""The core's OTA logic: update decision, streaming download with resume, self-test."""

from __future__ import annotations

import hashlib
import json

import pytest

from emulator.core.boot import BootInfo
from emulator.core.context import NvsData
from emulator.core.effects import (
    HttpCancel,
    HttpRequest,
    NvsSet,
    OtaMarkInvalid,
    OtaMarkValid,
    OtaSetBoot,
    Reboot,
    SlotErase,
    SlotRead,
    SlotWrite,
    WsClose,
)
from emulator.core.inputs import (
    HttpFailed,
    HttpStreamData,
    HttpStreamEnd,
    HttpStreamStart,
    SlotData,
    TimerFired,
)
from protocol.device_model import SLOT_READ_CHUNK_BYTES
from protocol.image import build_app_image
from tests.emulator.core_driver import Driver

pytestmark = pytest.mark.unit

IMAGE = build_app_image(version="1.1.0", payload=bytes(range(256)) * 40)
SHA = hashlib.sha256(IMAGE).hexdigest()


def manifest(**changes: object) -> bytes:
    body: dict[str, object] = {
        "version": "1.1.0",
        "url": "http://127.0.0.1:8000/web/firmware/teddy-1.1.0.bin",
        "sha256": SHA,
        "size": len(IMAGE),
        "mandatory": True,
        "secure_version": 0,
        "chip": "esp32",
        "notes": "",
    }
    body.update(changes)
    return json.dumps(body).encode()


def answer_reads(d: Driver, slot_bytes: bytes) -> list[SlotRead]:
    """Answer every SlotRead of a resumed download from `slot_bytes` (the partial slot)."""
    reads: list[SlotRead] = []
    while d.device.ota.download is not None and d.device.ota.download.reading:
        read = d.last(SlotRead)
        assert read not in reads, "the core asked nothing new"
        reads.append(read)
        d.feed(
            SlotData(read.slot, read.offset, slot_bytes[read.offset : read.offset + read.length])
        )
    return reads


def checked(driver: Driver) -> Driver:
    driver.to_idle()
    assert "/api/v1/esp32/firmware?" in driver.last(HttpRequest).url
    return driver


def none(reason: str, status: int, code: str = "", message: str = "", field: str = "") -> object:
    """An `ota.none` event's data (SPEC §8.2: the answer's status and what it said)."""
    return {"reason": reason, "status": status, "code": code, "message": message, "field": field}


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (404, b'{"error":{"code":"no_release"}}', none("no_release", 404, "no_release")),
        (500, b"", none("check_failed", 500, "http_500")),
        (200, b"{not json", none("bad_manifest", 200, message="(body): invalid_json")),
        (200, manifest(size=0), none("bad_manifest", 200, "", "size: out_of_range", "size")),
        (200, manifest(chip="esp32s3"), none("wrong_chip", 200)),
        (200, manifest(version="1.0.0"), none("same_version", 200)),
        (200, manifest(version="0.9.9"), none("older_version", 200)),
        (200, manifest(secure_version=1), none("secure_version_too_low", 200)),
    ],
)
def test_update_decision(status: int, body: bytes, expected: object) -> None:
    boot = BootInfo("1.0.0", "ota_0", "poweron", 1, efuse_secure_version=2)
    d = checked(Driver(boot=boot))
    d.answer(status, body, etag='"m1"')
    assert d.named("ota.none") == [expected]


def test_check_failed_on_transport_error_and_304_reuses_the_manifest() -> None:
    d = checked(Driver())
    d.feed(HttpFailed(d.last(HttpRequest).req_id, "timeout"))
    assert d.named("ota.none") == [none("check_failed", 0, "transport", "timeout")]
    d.line("ota check")
    d.answer(200, manifest(version="1.0.0"), etag='"m1"')
    d.line("ota check")
    assert dict(d.last(HttpRequest).headers)["If-None-Match"] == '"m1"'
    d.answer(304, etag='"m1"')
    assert d.named("ota.none")[-1] == none("same_version", 304)


def _stream(
    d: Driver, data: bytes, *, status: int = 200, headers: dict[str, str] | None = None
) -> None:
    request = d.last(HttpRequest)
    d.feed(HttpStreamStart(request.req_id, status, headers or {}))
    chunk = 1000
    for start in range(0, len(data), chunk):
        d.feed(HttpStreamData(request.req_id, data[start : start + chunk]))
    d.feed(HttpStreamEnd(request.req_id))


def test_download_verifies_writes_and_applies() -> None:
    d = checked(Driver())
    d.answer(200, manifest(), etag='"m1"')
    assert d.named("ota.available") == [{"version": "1.1.0", "size": len(IMAGE)}]
    assert d.device.state == "updating" and any(isinstance(e, SlotErase) for e in d.effects)
    _stream(d, IMAGE, headers={"etag": f'"{SHA}"'})
    writes = d.all(SlotWrite)
    assert b"".join(w.data for w in writes) == IMAGE and writes[0].slot == "ota_1"
    progress = [int(str(p["bytes"])) for p in d.named("ota.progress")]
    assert progress[0] == 0 and progress[-1] == len(IMAGE) and len(progress) == 11
    assert d.named("ota.applied") == [{"version": "1.1.0", "slot": "ota_1"}]
    order = [type(e).__name__ for e in d.effects if isinstance(e, OtaSetBoot | WsClose | Reboot)]
    assert order == ["OtaSetBoot", "WsClose", "Reboot"]  # slot set, 1001 "ota", then reset
    assert d.last(WsClose).reason == "ota"
    assert d.last(Reboot).reason == "sw"


def test_streaming_verifier_aborts_early_on_a_wrong_version() -> None:
    d = checked(Driver())
    other = build_app_image(version="1.2.0", payload=bytes(10000))
    d.answer(200, manifest(sha256=hashlib.sha256(other).hexdigest(), size=len(other)))
    request = d.last(HttpRequest)
    d.feed(HttpStreamStart(request.req_id, 200, {}))
    d.feed(HttpStreamData(request.req_id, other[:1000]))
    assert d.named("ota.verify.fail") == [{"reason": "version_mismatch", "message": ""}]
    assert d.last(HttpCancel).req_id == request.req_id and d.device.state == "idle"


def test_resume_after_power_cut_uses_range_and_if_range() -> None:
    half = len(IMAGE) // 2
    nvs: NvsData = {
        "ota_dl": {
            "sha256": SHA,
            "slot": "ota_1",
            "size": len(IMAGE),
            "version": "1.1.0",
            "bytes": half,
            "etag": f'"{SHA}"',
        }
    }
    d = checked(Driver(nvs=nvs))
    d.answer(200, manifest())
    reads = answer_reads(d, IMAGE[:half])
    # SPEC §5.2: re-read in SLOT_READ_CHUNK_BYTES pieces, never the whole slot at once.
    assert [(r.slot, r.offset, r.length) for r in reads] == [
        ("ota_1", 0, SLOT_READ_CHUNK_BYTES),
        ("ota_1", SLOT_READ_CHUNK_BYTES, half - SLOT_READ_CHUNK_BYTES),
    ]
    assert d.named("ota.progress")[0] == {"bytes": half, "total": len(IMAGE)}
    headers = dict(d.last(HttpRequest).headers)
    assert headers == {"Range": f"bytes={half}-", "If-Range": f'"{SHA}"'}
    rest = f"bytes {half}-{len(IMAGE) - 1}/{len(IMAGE)}"
    _stream(d, IMAGE[half:], status=206, headers={"content-range": rest})
    assert d.named("ota.applied") == [{"version": "1.1.0", "slot": "ota_1"}]
    assert d.all(SlotWrite)[0].offset == half


def test_bad_content_range_retries_and_200_restarts() -> None:
    half = len(IMAGE) // 2
    nvs: NvsData = {"ota_dl": {"sha256": SHA, "slot": "ota_1", "size": len(IMAGE), "bytes": half}}
    d = checked(Driver(nvs=nvs))
    d.answer(200, manifest())
    answer_reads(d, IMAGE[:half])
    request = d.last(HttpRequest)
    d.feed(HttpStreamStart(request.req_id, 206, {"content-range": "bytes 0-9/99"}))
    timer = d.timer("ota_retry")
    d.feed(TimerFired("ota_retry", timer.at_ms), after_ms=timer.at_ms - d.now)
    _stream(d, IMAGE, status=200)  # the server ignored the range: start again from 0
    assert d.all(SlotWrite)[0].offset == 0
    assert d.named("ota.applied")


def test_a_slot_shorter_than_nvs_says_restarts_the_download() -> None:
    half = len(IMAGE) // 2
    nvs: NvsData = {"ota_dl": {"sha256": SHA, "slot": "ota_1", "size": len(IMAGE), "bytes": half}}
    d = checked(Driver(nvs=nvs))
    d.answer(200, manifest())
    read = d.last(SlotRead)
    d.feed(SlotData(read.slot, 0, IMAGE[:100]))  # the slot ends long before NVS says
    assert d.last(SlotErase).slot == "ota_1"
    assert "Range" not in dict(d.last(HttpRequest).headers)
    _stream(d, IMAGE, status=200)
    assert d.named("ota.applied")


def test_five_failed_attempts_give_up_with_size_mismatch() -> None:
    d = checked(Driver())
    d.answer(200, manifest())
    for attempt in range(5):
        request = d.last(HttpRequest)
        d.feed(HttpStreamStart(request.req_id, 200, {}))
        d.feed(HttpStreamData(request.req_id, IMAGE[:100] if attempt == 0 else b""))
        d.feed(HttpFailed(request.req_id, "reset"))
        if attempt < 4:
            d.feed(TimerFired("ota_retry", d.timer("ota_retry").at_ms))
    # SPEC §8.2: the give-up says what the last attempt got.
    why = "5 attempts failed; the last: transport: reset"
    assert d.named("ota.verify.fail") == [{"reason": "size_mismatch", "message": why}]
    assert any(isinstance(e, NvsSet) and e.key == "bytes" for e in d.effects)


def test_self_test_marks_valid_on_ws_open_or_rolls_back() -> None:
    boot = BootInfo("1.1.0", "ota_1", "sw", 2, image_secure_version=3, pending_verify=True)
    good = Driver(boot=boot)
    limit = good.timer("selftest")
    assert limit.at_ms == good.timing.self_test_limit_ms
    good.to_idle()
    assert good.last(OtaMarkValid) == OtaMarkValid("ota_1", 3)
    bad = Driver(boot=boot)
    bad.feed(TimerFired("selftest", limit.at_ms), after_ms=limit.at_ms)
    assert bad.last(OtaMarkInvalid) == OtaMarkInvalid("ota_1", "self_test_failed")
    assert bad.last(Reboot).reason == "sw"


def test_image_larger_than_the_slot_is_refused_before_writing() -> None:
    d = checked(Driver(boot=BootInfo("1.0.0", "ota_0", "poweron", 1, slot_size=1024)))
    d.answer(200, manifest())
    why = f"image of {len(IMAGE)} bytes does not fit the 1024-byte slot"
    assert d.named("ota.verify.fail") == [{"reason": "size_mismatch", "message": why}]
    assert not d.all(SlotErase) and d.device.state == "idle"
