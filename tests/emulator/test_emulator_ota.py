"""OTA on the emulated board against the reference server (SPEC §5.4, §5.2, §5.5)."""

from __future__ import annotations

import hashlib
import json

import pytest

from protocol.image import build_app_image
from server.releases import ReleaseOverrides
from tests.emulator.helpers import Lines, RecordingTransport, Rig, boot_to_idle, wait_for_nvs

pytestmark = pytest.mark.emu

PAYLOAD = bytes(range(256)) * 200  # ~51 KB images: a dozen 4 KiB download chunks


def decided(reason: str, status: int) -> dict[str, object]:
    """`ota.none` of a decision row (SPEC §5.4, §8.2): the answer was fine, no error."""
    return {"reason": reason, "status": status, "code": "", "message": "", "field": ""}


async def _status(rig: Rig, lines: Lines) -> dict[str, object]:
    assert rig.host is not None
    mark = lines.mark()
    await rig.host.write_line("status")
    return (await lines.wait("cmd.ok", lambda d: d["cmd"] == "status", since=mark)).data


async def _expect_refusal(rig: Rig, reason: str) -> None:
    failed = await rig.lines.wait("ota.verify.fail")
    assert failed.data == {"reason": reason, "message": ""}
    await rig.lines.wait("state", lambda d: d["from"] == "updating")
    status = await _status(rig, rig.lines)
    assert (status["fw_version"], status["slot"]) == ("1.0.0", "ota_0")
    assert len(rig.lines.named("boot")) == 1  # no reboot into a refused image


async def test_update_is_applied_and_survives_a_reboot(rig: Rig) -> None:
    image = rig.publish("1.1.0", payload=PAYLOAD)
    host = rig.board()
    await host.start()
    available = await rig.lines.wait("ota.available")
    assert available.data == {"version": "1.1.0", "size": len(image)}
    applied = await rig.lines.wait("ota.applied")
    assert applied.data == {"version": "1.1.0", "slot": "ota_1"}
    closed = rig.lines.named("ws.close")[-1]
    assert (closed.data["code"], closed.data["reason"]) == (1001, "ota")
    assert str(closed.data["url"]).endswith("/api/v1/esp32/private/chat")  # SPEC §8.2
    progress = [int(str(e.data["bytes"])) for e in rig.lines.named("ota.progress")]
    assert progress[0] == 0 and progress[-1] == len(image)
    assert progress == sorted(progress) and 10 <= len(progress) <= 12
    boot = await rig.lines.wait("boot", lambda d: d["fw_version"] == "1.1.0")
    assert boot.data["slot"] == "ota_1" and boot.data["reset_reason"] == "sw"
    mark = rig.lines.mark()
    none = await rig.lines.wait("ota.none", since=mark)  # self-test passed at ws.open
    assert none.data == decided("same_version", 304)  # the manifest it installed from
    await host.write_line("reboot")
    again = await rig.lines.wait("boot", since=mark + 1)
    assert (again.data["fw_version"], again.data["slot"]) == ("1.1.0", "ota_1")
    await rig.lines.wait("ws.open", since=mark + 1)
    assert not rig.lines.named("ota.rollback")
    flash = rig.root / "flash"
    assert (flash / "ota_1.bin").read_bytes() == image
    otadata = json.loads((flash / "otadata.json").read_text())
    assert otadata["ota_1"]["state"] == "valid"


async def test_same_version_is_skipped(rig: Rig) -> None:
    rig.publish("1.0.0", payload=b"same")
    await boot_to_idle(rig)
    assert rig.lines.named("ota.none")[0].data == decided("same_version", 200)
    mark = rig.lines.mark()
    assert rig.host is not None
    await rig.host.write_line("ota check")
    again = await rig.lines.wait("ota.none", since=mark)  # 304 -> cached manifest decides
    assert again.data == decided("same_version", 304)


async def test_sha256_mismatch_is_refused(rig: Rig) -> None:
    rig.publish("1.1.0", payload=PAYLOAD, overrides=ReleaseOverrides(sha256="ab" * 32))
    rig.board()
    assert rig.host is not None
    await rig.host.start()
    await _expect_refusal(rig, "sha256_mismatch")


async def test_truncated_image_is_refused(rig: Rig) -> None:
    full = build_app_image(version="1.1.0", payload=PAYLOAD)
    overrides = ReleaseOverrides(version="1.1.0", chip="esp32")
    rig.publish("1.1.0", image=full[:-100], overrides=overrides)
    await rig.board().start()
    await _expect_refusal(rig, "truncated")


async def test_image_for_another_chip_is_refused(rig: Rig) -> None:
    image = build_app_image(version="1.1.0", chip="esp32c3", payload=PAYLOAD)
    rig.publish("1.1.0", image=image, overrides=ReleaseOverrides(chip="esp32"))
    await rig.board().start()
    await _expect_refusal(rig, "wrong_chip")


async def test_lower_secure_version_is_refused(rig: Rig) -> None:
    rig.publish("1.1.0", secure_version=1, payload=PAYLOAD)
    host = await boot_to_idle(rig, secure_version=2)
    assert rig.lines.named("ota.none")[0].data == decided("secure_version_too_low", 200)
    # A manifest that lies about secure_version is caught by the streaming verifier.
    image = build_app_image(version="1.2.0", secure_version=1, payload=PAYLOAD)
    rig.publish("1.2.0", image=image, overrides=ReleaseOverrides(secure_version=2))
    mark = rig.lines.mark()
    await host.write_line("ota check")
    failed = await rig.lines.wait("ota.verify.fail", since=mark)
    assert failed.data == {"reason": "secure_version_too_low", "message": ""}


async def test_power_cut_mid_download_resumes_with_range(rig: Rig) -> None:
    image = rig.publish("1.1.0", payload=PAYLOAD)
    cut_at = len(image) * 6 // 10 // 4096 * 4096
    transport = RecordingTransport(stall_image_after=cut_at)
    host = rig.board(transport=transport)
    try:
        await host.start()
        # The stalled link delivers exactly `cut_at` bytes; the download checkpoint in NVS
        # (SPEC §5.2) must reach that count before the power goes.
        await rig.lines.wait("ota.progress", lambda d: int(str(d["bytes"])) >= len(image) // 2)
        saved = await wait_for_nvs(rig.root / "flash", "ota_dl", lambda v: v["bytes"] == cut_at)
        assert saved["sha256"] == hashlib.sha256(image).hexdigest()
        await host.power_cut()
        assert (rig.root / "flash" / "ota_1.bin").read_bytes() == image[:cut_at]
        mark = rig.lines.mark()
        await host.start()
        first = await rig.lines.wait("ota.progress", since=mark)
        assert first.data == {"bytes": cut_at, "total": len(image)}  # resumed, not from 0
        await rig.lines.wait("ota.applied", since=mark)
        boot = await rig.lines.wait("boot", lambda d: d["fw_version"] == "1.1.0", since=mark)
        assert boot.data["slot"] == "ota_1"
    finally:
        await transport.close_inner()
    downloads = [s for s in transport.seen if s.path.startswith("/web/firmware/")]
    assert [s.status for s in downloads] == [200, 206]
    assert downloads[1].headers["range"] == f"bytes={cut_at}-"
    assert downloads[1].headers["if-range"] == f'"{hashlib.sha256(image).hexdigest()}"'


async def test_failed_self_test_rolls_back(rig: Rig) -> None:
    rig.publish("1.1.0", payload=b'TEDDY-BEHAVIOUR:{"selftest":"fail"}' + PAYLOAD)
    await rig.board().start()
    await rig.lines.wait("ota.applied")
    bad = await rig.lines.wait("boot", lambda d: d["fw_version"] == "1.1.0")
    assert bad.data["slot"] == "ota_1"
    mark = rig.lines.mark()
    failed = await rig.lines.wait("config.fail", since=mark)  # its network is broken
    assert failed.data == {
        "status": 0,
        "error": "network_unreachable",
        "message": "network_unreachable",
        "field": "",
    }
    rollback = await rig.lines.wait("ota.rollback", within=15)
    assert rollback.data == {"from": "1.1.0", "to": "1.0.0", "reason": "self_test_failed"}
    back = rig.lines.named("boot")[-1]
    assert (back.data["fw_version"], back.data["slot"]) == ("1.0.0", "ota_0")
    none = await rig.lines.wait("ota.none", since=rig.lines.mark() - 2)
    assert none.data == decided("rolled_back", 304)  # no endless re-install of a bad image


async def test_crash_before_confirming_rolls_back_with_the_reset_reason(rig: Rig) -> None:
    rig.publish("1.1.0", payload=b'TEDDY-BEHAVIOUR:{"panic_after_ms":0}' + PAYLOAD)
    await rig.board().start()
    rollback = await rig.lines.wait("ota.rollback")
    assert rollback.data == {"from": "1.1.0", "to": "1.0.0", "reason": "panic"}
    boots = [(e.data["fw_version"], e.data["reset_reason"]) for e in rig.lines.named("boot")]
    assert boots == [("1.0.0", "poweron"), ("1.1.0", "sw"), ("1.0.0", "panic")]


async def test_download_cut_short_is_resumed_with_range(rig: Rig) -> None:
    image = rig.publish("1.1.0", payload=PAYLOAD)
    transport = RecordingTransport(stall_image_after=20_000, hang=False)
    try:
        await rig.board(transport=transport).start()
        await rig.lines.wait("boot", lambda d: d["fw_version"] == "1.1.0")
    finally:
        await transport.close_inner()
    downloads = [s for s in transport.seen if s.path.startswith("/web/firmware/")]
    assert [(s.status, s.headers.get("range")) for s in downloads] == [
        (200, None),
        (206, "bytes=20000-"),
    ]
    progress = [int(str(e.data["bytes"])) for e in rig.lines.named("ota.progress")]
    assert progress[-1] == len(image) and len(rig.lines.named("ota.applied")) == 1
