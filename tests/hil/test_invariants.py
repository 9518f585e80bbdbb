"""Each built-in invariant on wire records: one record that breaks it, one that keeps it.

Records are written in the wire log's form (hil/README.md, "The wire log"); the runner
tests (tests/hil_tap) show the same invariants firing on a real run.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from hil.rules.invariants import INVARIANT_IDS, INVARIANTS, get_invariant

pytestmark = pytest.mark.unit

Record = Mapping[str, object]


def req(
    path: str, *, headers: list[list[str]] | None = None, query: str = "", **more: object
) -> Record:
    target = path + (f"?{query}" if query else "")
    return {
        "kind": "request",
        "dir": "up",
        "conn": 1,
        "method": "GET",
        "path": path,
        "target": target,
        "query": query,
        "headers": headers or [],
        **more,
    }


def resp(status: int, headers: list[list[str]], path: str = "/api/v1/esp32/config") -> Record:
    return {
        "kind": "response",
        "dir": "down",
        "conn": 1,
        "method": "GET",
        "path": path,
        "status": status,
        "headers": headers,
    }


def ws(direction: str, kind: str | None, size: int = 100, **more: object) -> Record:
    return {
        "kind": "ws",
        "dir": direction,
        "conn": 2,
        "opcode": "text",
        "size": size,
        "type": kind,
        "fields": {"type": kind},
        **more,
    }


def claim(nonce: str, device: str = "Teddy-ESP32-0001", conn: int = 1) -> Record:
    body = {"json": {"device_id": device, "nonce": nonce}, "size": 100}
    return {
        "kind": "request",
        "dir": "up",
        "conn": conn,
        "method": "POST",
        "path": "/api/v1/pair/claim",
        "target": "/api/v1/pair/claim",
        "query": "",
        "headers": [["Content-Type", "application/json"]],
        "body": body,
    }


UPGRADE = [["Upgrade", "websocket"], ["Connection", "Upgrade"]]
CASES: dict[str, tuple[list[Record], list[Record]]] = {
    # invariant: (records that keep it, records that break it; the last one breaks it)
    "downlink_frame_size": (
        [ws("down", "audio_response", 8191), ws("up", "audio_chunk", 9000)],
        [ws("down", "audio_response", 8192)],
    ),
    "not_modified_headers": (
        [resp(304, [["ETag", '"a"'], ["Cache-Control", "max-age=600"]]), resp(200, [])],
        [resp(304, [["ETag", '"a"']])],
    ),
    "upgrade_bearer": (
        [
            req(
                "/api/v1/esp32/private/chat",
                headers=[*UPGRADE, ["authorization", "Bearer eyJ.x.y"]],
            )
        ],
        [req("/api/v1/esp32/private/chat", headers=UPGRADE)],
    ),
    "no_5xx": ([resp(404, []), resp(499, [])], [resp(503, [["Retry-After", "1"]])]),
    "no_error_frame": (
        [ws("down", "text_response"), ws("up", "error")],
        [ws("down", "error", fields={"error_code": "no_audio_data"})],
    ),
    "query_encoded": (
        [req("/chat", query="device_id=Teddy-1&child_name=Sam%20Lee")],
        [req("/chat", query="device_id=Teddy-1&child_name=Sam Lee")],
    ),
    "wire_decodes": (
        [req("/api/v1/esp32/config"), resp(200, [])],
        [{"kind": "error", "dir": "up", "conn": 3, "error": "illegal request line"}],
    ),
    "json_frames": ([ws("up", "audio_start"), ws("down", "system")], [ws("down", "surprise")]),
    "nonce_unique": (
        [claim("ab" * 16), claim("cd" * 16), claim("ab" * 16, "Teddy-ESP32-0002")],
        [claim("ef" * 16, conn=3), claim("EF" * 16, conn=4)],
    ),
}


def test_every_invariant_has_cases_and_a_spec_section() -> None:
    assert set(CASES) == set(INVARIANT_IDS)
    for invariant in INVARIANTS:
        assert invariant.spec.startswith("§") and invariant.requires


@pytest.mark.parametrize("invariant_id", INVARIANT_IDS)
def test_it_holds_then_fires(invariant_id: str) -> None:
    keep, broken = CASES[invariant_id]
    check = get_invariant(invariant_id).checker()
    for record in keep:
        assert check(record) is None, record
    *before, last = broken
    for record in before:
        assert check(record) is None, record
    problem = check(last)
    assert problem, f"{invariant_id} did not fire on {last}"


def test_json_frames_names_what_is_wrong() -> None:
    check = get_invariant("json_frames").checker()
    assert "binary" in (check({**ws("down", None), "opcode": "binary"}) or "")
    assert "not JSON" in (check({**ws("down", None), "json_error": "Expecting value"}) or "")
    assert "'handshake'" in (check(ws("up", "handshake")) or "")


def test_a_fresh_checker_per_run_forgets_the_nonces() -> None:
    nonce = claim("12" * 16)
    first = get_invariant("nonce_unique").checker()
    assert first(nonce) is None and first(nonce) is not None
    assert get_invariant("nonce_unique").checker()(nonce) is None
