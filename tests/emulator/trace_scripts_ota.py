"""Trace scripts of SPEC §5: update check, download with resume, apply, self-test, rollback.

Recorded by tests.emulator.trace_draft like trace_scripts (review every expectation
against SPEC before committing). Images are `protocol.image.build_app_image` output,
so the streaming verifier of both cores accepts them (SPEC §5.3, §5.4).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Final

from emulator.core.effects import HttpRequest, SlotRead
from emulator.core.inputs import (
    HttpFailed,
    HttpStreamData,
    HttpStreamEnd,
    HttpStreamStart,
    SlotData,
    TimeSynced,
    WifiUp,
)
from tests.emulator.trace_draft import Draft, nvs
from tests.emulator.trace_server import (
    EPOCH,
    STORED_AUTH,
    fire,
    image,
    manifest,
    stored_cfg,
    to_idle,
)

NEW: Final = image("1.1.0", payload_len=48)


def _stream(
    d: Draft,
    data: bytes,
    *,
    pieces: int,
    status: int = 200,
    headers: dict[str, str] | None = None,
    end: bool = True,
) -> None:
    request = d.last(HttpRequest)
    d.feed(HttpStreamStart(request.req_id, status, headers or {}), after_ms=20)
    size = -(-len(data) // pieces)
    for start in range(0, len(data), size):
        d.feed(HttpStreamData(request.req_id, data[start : start + size]), after_ms=10)
    if end:
        d.feed(HttpStreamEnd(request.req_id), after_ms=2)


def ota_applied() -> Draft:
    d = Draft(
        "ota_applied",
        "SPEC §5.4 newer mandatory release: ota.available, download into the inactive slot "
        "(progress at 0, each 10 % and the end; NVS byte count after each slot write), "
        "verification, otadata set, ota.applied, close 1001 `ota`, reboot sw.",
        ["5.2", "5.4", "5.5", "6.2", "8.2", "8.3"],
        nvs=[*STORED_AUTH, *stored_cfg()],
        nonces=[],
    )
    to_idle(d, stored=True, check_answer=None)
    d.answer(
        200,
        manifest(NEW, version="1.1.0"),
        headers={"etag": '"mf-1"'},
        after_ms=4,
        note="SPEC §5.4 row 8: newer_version",
    )
    etag = f'"{hashlib.sha256(NEW).hexdigest()}"'
    _stream(d, NEW, pieces=3, headers={"etag": etag, "content-length": str(len(NEW))})
    return d


def download_cut_resumed() -> Draft:
    big = image("1.1.0", payload_len=600)
    etag = f'"{hashlib.sha256(big).hexdigest()}"'
    d = Draft(
        "download_cut_resumed",
        "SPEC §5.2: the link drops mid-download; after ota_retry_ms the device asks for "
        "`Range: bytes=<received>-` with `If-Range: <ETag of the first response>`, accepts "
        "the 206 whose Content-Range starts there and ends at size-1, and applies.",
        ["5.2", "5.4", "5.5", "8.2"],
        nvs=[*STORED_AUTH, *stored_cfg()],
        nonces=[],
    )
    to_idle(d, stored=True, check_answer=None)
    d.answer(200, manifest(big, version="1.1.0"), headers={"etag": '"mf-1"'}, after_ms=4)
    request = d.last(HttpRequest)
    d.feed(HttpStreamStart(request.req_id, 200, {"etag": etag}), after_ms=20)
    d.feed(HttpStreamData(request.req_id, big[:400]), after_ms=10)
    d.feed(HttpFailed(request.req_id, "reset"), after_ms=10, note="SPEC §5.2: attempt 1 failed")
    fire(d, "ota_retry")
    rest = f"bytes 400-{len(big) - 1}/{len(big)}"
    _stream(d, big[400:], pieces=2, status=206, headers={"etag": etag, "content-range": rest})
    return d


def download_power_cut_resume() -> Draft:
    big = image("1.1.0", payload_len=6000)
    sha = hashlib.sha256(big).hexdigest()
    done = 5000
    d = Draft(
        "download_power_cut_resume",
        "SPEC §5.2 across a power cut: NVS says 5000 bytes of this sha256 are in ota_1; "
        "the device re-reads and re-hashes the partial slot in 4096-byte reads, prints "
        "ota.progress at 5000 and asks only for the rest (Range, If-Range).",
        ["5.2", "5.4", "5.5", "8.2"],
        nvs=[
            *STORED_AUTH,
            *stored_cfg(),
            nvs("ota_dl", "sha256", sha),
            nvs("ota_dl", "slot", "ota_1"),
            nvs("ota_dl", "size", len(big)),
            nvs("ota_dl", "version", "1.1.0"),
            nvs("ota_dl", "bytes", done),
            nvs("ota_dl", "etag", f'"{sha}"'),
        ],
        nonces=[],
    )
    to_idle(d, stored=True, check_answer=None)
    d.answer(200, manifest(big, version="1.1.0"), headers={"etag": '"mf-1"'}, after_ms=4)
    while True:
        read = d.last(SlotRead)
        d.feed(
            SlotData(read.slot, read.offset, big[read.offset : read.offset + read.length]),
            after_ms=3,
        )
        if read.offset + read.length >= done:
            break
    rest = f"bytes {done}-{len(big) - 1}/{len(big)}"
    _stream(
        d, big[done:], pieces=1, status=206, headers={"etag": f'"{sha}"', "content-range": rest}
    )
    return d


def _pending_boot(secure: int) -> dict[str, object]:
    return {
        "fw_version": "1.1.0",
        "slot": "ota_1",
        "reset_reason": "sw",
        "boot_count": 2,
        "image_secure_version": secure,
        "pending_verify": True,
    }


def ota_selftest_passes() -> Draft:
    d = Draft(
        "ota_selftest_passes",
        "SPEC §5.5: a pending-verify image marks itself valid (raising anti-rollback to its "
        "secure_version) when it reaches ws.open, and cancels the self-test timer.",
        ["5.5", "8.2"],
        boot=_pending_boot(2),
        nvs=[*STORED_AUTH, *stored_cfg()],
        nonces=[],
    )
    to_idle(d, stored=True)
    return d


def ota_selftest_fails() -> Draft:
    d = Draft(
        "ota_selftest_fails",
        "SPEC §5.5: a pending-verify image whose requests all fail never reaches ws.open; "
        "when the self-test limit passes it marks itself invalid (self_test_failed) and "
        "reboots, so the bootloader falls back.",
        ["4.3", "3.2", "5.5", "8.2"],
        boot=_pending_boot(1),
        nvs=[*STORED_AUTH, *stored_cfg()],
        nonces=[],
    )
    d.start()
    d.feed(WifiUp("10.0.2.15"), after_ms=20)
    d.feed(HttpFailed(d.last(HttpRequest).req_id, "connect_failed"), after_ms=5)
    d.feed(TimeSynced(EPOCH), after_ms=10)
    d.feed(
        HttpFailed(d.last(HttpRequest).req_id, "connect_failed"),
        after_ms=5,
        note="SPEC §3.2: a failed foreground refresh retries with the claim backoff",
    )
    fire(d, "auth_retry")
    fire(d, "selftest", note="SPEC §5.5: self_test_failed, reboot sw")
    return d


def ota_rollback_report() -> Draft:
    d = Draft(
        "ota_rollback_report",
        "SPEC §5.5: the boot after a fall-back prints boot then ota.rollback{from,to,reason}, "
        "remembers the version and acknowledges the report; a later check offering that "
        "version answers ota.none{rolled_back}.",
        ["5.4", "5.5", "8.2"],
        boot={
            "reset_reason": "sw",
            "boot_count": 3,
            "rollback": {"from": "1.1.0", "to": "1.0.0", "reason": "self_test_failed"},
        },
        nvs=[*STORED_AUTH, *stored_cfg()],
        nonces=[],
    )
    to_idle(d, stored=True, check_answer=None)
    d.answer(200, manifest(NEW, version="1.1.0"), headers={"etag": '"mf-1"'}, after_ms=4)
    return d


OTA_SCRIPTS: Final[dict[str, Callable[[], Draft]]] = {
    "ota_applied": ota_applied,
    "download_cut_resumed": download_cut_resumed,
    "download_power_cut_resume": download_power_cut_resume,
    "ota_selftest_passes": ota_selftest_passes,
    "ota_selftest_fails": ota_selftest_fails,
    "ota_rollback_report": ota_rollback_report,
}
