"""Trace scripts of the SPEC §5.4 update decision and verification, and their limits.

Recorded by tests.emulator.trace_draft like trace_scripts (review every expectation
against SPEC before committing): every decision row the device adapter and
`decide_update` own, a 304 re-using the stored manifest, a verification failure at the
end (sha256) and one the streaming verifier catches early (version), a non-mandatory
update waiting for idle, five failed attempts, and `features.ota` false.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Final

from emulator.core.effects import HttpRequest, WsConnect
from emulator.core.inputs import (
    ConsoleLine,
    HttpFailed,
    HttpStreamData,
    HttpStreamEnd,
    HttpStreamStart,
    PlaybackDone,
    WsText,
)
from protocol.messages import TextResponse
from tests.emulator.trace_draft import Draft, nvs
from tests.emulator.trace_server import (
    CONFIG_ETAG,
    STORED_AUTH,
    audio_frame,
    config_body,
    error_body,
    fire,
    image,
    manifest,
    server_msg,
    stored_cfg,
    to_idle,
)

NEW: Final = image("1.1.0", payload_len=48)


def _checked(name: str, description: str, spec: list[str], **setup: object) -> Draft:
    nvs_list = setup.pop("nvs", [*STORED_AUTH, *stored_cfg()])
    d = Draft(name, description, spec, nvs=nvs_list, nonces=[], **setup)  # type: ignore[arg-type]
    to_idle(d, stored=True, check_answer=None)
    return d


def ota_decisions() -> Draft:
    d = _checked(
        "ota_decisions",
        "SPEC §5.4 decision table on a device at 1.0.0 whose anti-rollback counter is 1: "
        "same_version (200), the same again from a 304 with the stored manifest, "
        "older_version, wrong_chip, secure_version_too_low, bad_manifest, check_failed (5xx); "
        "each check sends If-None-Match of the last manifest.",
        ["5.1", "5.4", "8.2", "9.2"],
        boot={"efuse_secure_version": 1},
    )
    d.answer(
        200,
        manifest(NEW, version="1.0.0", secure_version=1),
        headers={"etag": '"mf-1"'},
        after_ms=4,
        note="row 5",
    )
    checks: list[tuple[int, bytes, str]] = [
        (304, b"", "row 5 again: a 304 re-uses the manifest stored with that ETag"),
        (200, manifest(NEW, version="0.9.0", secure_version=1), "row 6"),
        (200, manifest(NEW, version="1.1.0", chip="esp32s3", secure_version=1), "row 4"),
        (200, manifest(NEW, version="1.1.0", secure_version=0), "row 7"),
        (200, manifest(NEW, version="1.1.0", size=0), "row 3: size must be >= 1"),
        (503, error_body("internal_error"), "row 1"),
    ]
    for n, (status, body, note) in enumerate(checks):
        d.feed(ConsoleLine("ota check"), after_ms=1000)
        etag = '"mf-1"' if status == 304 else f'"mf-{n + 2}"'
        d.answer(status, body, headers={"etag": etag}, after_ms=4, note=note)
    return d


def ota_verify_fail() -> Draft:
    wrong = bytearray(NEW)
    wrong[-1] ^= 0xFF
    other = image("1.2.0", payload_len=48)
    d = _checked(
        "ota_verify_fail",
        "SPEC §5.4 verification: a download whose bytes do not hash to the manifest's "
        "sha256 fails at the end (ota.verify.fail{sha256_mismatch}, progress forgotten, "
        "idle again); an image whose embedded version differs from the manifest's is "
        "caught by the streaming verifier in its first 288 bytes (version_mismatch) and "
        "the download is cancelled.",
        ["5.2", "5.4", "8.2", "8.3"],
    )
    d.answer(200, manifest(NEW, version="1.1.0"), headers={"etag": '"mf-1"'}, after_ms=4)
    request = d.last(HttpRequest)
    d.feed(HttpStreamStart(request.req_id, 200, {}), after_ms=20)
    d.feed(HttpStreamData(request.req_id, bytes(wrong)), after_ms=10)
    d.feed(HttpStreamEnd(request.req_id), after_ms=2, note="row 2: sha256_mismatch")
    d.feed(ConsoleLine("ota check"), after_ms=1000)
    fake = manifest(other, version="1.1.0")  # sha256 and size of a 1.2.0 image
    d.answer(200, fake, headers={"etag": '"mf-2"'}, after_ms=4)
    request = d.last(HttpRequest)
    d.feed(HttpStreamStart(request.req_id, 200, {}), after_ms=20)
    d.feed(
        HttpStreamData(request.req_id, other[:300]),
        after_ms=10,
        note="row 13 from the streaming verifier: abort, cancel the request",
    )
    return d


def ota_waits_for_idle() -> Draft:
    d = _checked(
        "ota_waits_for_idle",
        "SPEC §5.4: a non-mandatory update found while a reply is pending waits until the "
        "device is idle (no utterance or reply in progress), then downloads.",
        ["5.4", "8.2", "8.3"],
    )
    d.answer(404, error_body("no_release"), after_ms=4)
    conn = d.last(WsConnect).conn_id
    d.feed(ConsoleLine("text hi"), after_ms=100)
    d.feed(ConsoleLine("ota check"), after_ms=10)
    d.answer(
        200,
        manifest(NEW, version="1.1.0", mandatory=False),
        headers={"etag": '"mf-1"'},
        after_ms=4,
        note="ota.available, but the chat is busy",
    )
    d.feed(WsText(conn, server_msg(TextResponse("Hi!"))), after_ms=200)
    d.feed(WsText(conn, audio_frame("r1", 0, bytes(4), final=True, text="Hi!")), after_ms=2)
    d.feed(PlaybackDone("r1"), after_ms=50, note="idle now: the download starts")
    return d


def download_gives_up() -> Draft:
    d = _checked(
        "download_gives_up",
        "SPEC §5.2: five failed attempts (the first cut after 100 bytes, the next resumed "
        "with Range and failing at once) give up with ota.verify.fail{size_mismatch}.",
        ["5.2", "8.2"],
    )
    d.answer(200, manifest(NEW, version="1.1.0"), headers={"etag": '"mf-1"'}, after_ms=4)
    etag = f'"{hashlib.sha256(NEW).hexdigest()}"'
    for attempt in range(5):
        request = d.last(HttpRequest)
        if attempt == 0:
            d.feed(HttpStreamStart(request.req_id, 200, {"etag": etag}), after_ms=20)
            d.feed(HttpStreamData(request.req_id, NEW[:100]), after_ms=10)
        d.feed(HttpFailed(request.req_id, "reset"), after_ms=10)
        if attempt < 4:
            fire(d, "ota_retry")
    return d


def ota_disabled() -> Draft:
    d = _checked(
        "ota_disabled",
        "SPEC §4.1, §9.3: with features.ota false in the cached config the device makes no "
        "check after ws.open and refuses `ota check` with bad_argument.",
        ["4.1", "5.4", "9.3"],
        nvs=[
            *STORED_AUTH,
            nvs("cfg", "body", config_body(features={"ota": False}).decode()),
            nvs("cfg", "etag", CONFIG_ETAG),
        ],
    )
    d.feed(ConsoleLine("ota check"), after_ms=100)
    return d


CHECK_SCRIPTS: Final[dict[str, Callable[[], Draft]]] = {
    "ota_decisions": ota_decisions,
    "ota_verify_fail": ota_verify_fail,
    "ota_waits_for_idle": ota_waits_for_idle,
    "download_gives_up": download_gives_up,
    "ota_disabled": ota_disabled,
}
