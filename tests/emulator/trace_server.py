"""What the trace scripts answer the device with, and the boot prefixes they share.

Server documents and frames are built with `protocol` (claim responses, messages,
images), so they are what a conforming server sends (SPEC §2.5, §3.2, §4.1, §5.1, §6.4).
`to_idle` walks a draft from power-on to an idle, connected device, either from a
blank flash (claim) or from stored tokens (refresh first after a reboot, SPEC §3.2).
Part of the trace drafting tool (tests.emulator.trace_draft), never of a test run.
"""

from __future__ import annotations

import hashlib
import json
from typing import Final

from emulator.core.effects import SetTimer, WsConnect
from emulator.core.inputs import TimerFired, TimeSynced, WifiUp, WsOpened, WsText
from protocol.claim import ChildProfile, ClaimResponse, DeviceConfig, RefreshResponse
from protocol.device_model import Timer
from protocol.image import build_app_image
from protocol.messages import AudioResponse, ServerMessage, SystemMessage, encode_message
from tests.emulator.trace_draft import CHILD_ID, SERVER, TS, WS_URL, Draft, nvs

SESSION: Final = "3f1c2b9e-8d7a-4e61-b0c4-5a2f9e7d1c30"
EPOCH: Final = 1764182160  # 2025-11-26T18:36:00Z
CONFIG_ETAG: Final = '"3b1f0c9a6e2d4f10"'
# NVS of a device that claimed before this boot (tokens, the claim's device_config).
STORED_AUTH: Final = [
    nvs("auth", "refresh_token", "refresh-0"),
    nvs("auth", "access_token", "access-0"),
    nvs("auth", "session_id", SESSION),
    nvs("auth", "websocket_url", WS_URL),
    nvs("auth", "child_id", CHILD_ID),
    nvs("auth", "hb_interval", 30),
    nvs("auth", "chunk_bytes", 8),  # small uplink chunks keep chat traces short (SPEC §7.2)
]


def config_body(**changes: object) -> bytes:
    """The SPEC §4.1 document for a server on 127.0.0.1:8000."""
    body: dict[str, object] = {
        "host": "127.0.0.1",
        "port": 8000,
        "tls": False,
        "ws_path": "/api/v1/esp32/private/chat",
        "firmware_endpoint": "/api/v1/esp32/firmware",
        "ntp": ["pool.ntp.org", "time.google.com", "time.cloudflare.com"],
        "features": {
            "ota": True,
            "strict_tls": False,
            "audio_streaming": True,
            "child_safety": True,
        },
        "app_version": "1.3.0",
        "firmware_version": "1.0.0",
        "heartbeat_interval": 30,
    }
    body.update(changes)
    return json.dumps(body, separators=(",", ":")).encode()


def stored_cfg() -> list[dict[str, object]]:
    return [nvs("cfg", "body", config_body().decode()), nvs("cfg", "etag", CONFIG_ETAG)]


def claim_body(
    *, expires_in: int = 3600, chunk_bytes: int = 8, age: int = 7, name: str = "Friend"
) -> bytes:
    """A SPEC §2.5 claim 200; the child profile is the development default unless given."""
    response = ClaimResponse(
        access_token="access-1",
        refresh_token="refresh-1",
        device_session_id=SESSION,
        child_profile=ChildProfile(CHILD_ID, name, age, "en"),
        device_config=DeviceConfig(WS_URL),
        expires_in=expires_in,
    )
    body = response.to_json()
    device_config = body["device_config"]
    assert isinstance(device_config, dict)
    audio = device_config["audio"]
    assert isinstance(audio, dict)
    audio["chunk_bytes"] = chunk_bytes
    return json.dumps(body, separators=(",", ":")).encode()


def refresh_body(n: int, *, expires_in: int = 3600) -> bytes:
    pair = RefreshResponse(f"access-{n}", f"refresh-{n}", expires_in=expires_in)
    return json.dumps(pair.to_json(), separators=(",", ":")).encode()


def error_body(code: str, message: str = "") -> bytes:
    error = {"code": code, "message": message or code, "correlation_id": "c-1"}
    return json.dumps({"error": error}, separators=(",", ":")).encode()


def server_msg(message: ServerMessage) -> str:
    return encode_message(message, timestamp=TS)


def hello() -> str:
    return server_msg(
        SystemMessage.connection_established(
            session_id=SESSION, message="Hello Mia! I'm ready to chat!", server_time=TS
        )
    )


def audio_frame(session: str, seq: int, pcm: bytes, *, final: bool, text: str | None = None) -> str:
    return server_msg(AudioResponse(session, seq, pcm, final, text))


def fire(d: Draft, name: Timer, *, note: str = "") -> None:
    """Fire the newest arming of timer `name` at its at_ms."""
    timers = [e for e in d.effects if isinstance(e, SetTimer) and e.name == name]
    assert timers, f"{d.name}: timer {name} never armed"
    d.at(timers[-1].at_ms, TimerFired(name, timers[-1].at_ms), note=note)


def manifest(image: bytes, *, version: str, mandatory: bool = True, **changes: object) -> bytes:
    """The SPEC §5.1 manifest of `image` (fields in `changes` override, e.g. a wrong chip)."""
    sha = hashlib.sha256(image).hexdigest()
    body: dict[str, object] = {
        "version": version,
        "url": f"{SERVER}/web/firmware/teddy-{version}-esp32-{sha[:12]}.bin",
        "sha256": sha,
        "size": len(image),
        "mandatory": mandatory,
        "secure_version": 0,
        "chip": "esp32",
        "notes": "",
    }
    body.update(changes)
    return json.dumps(body, separators=(",", ":")).encode()


def image(version: str, payload_len: int = 0) -> bytes:
    return build_app_image(version=version, payload=bytes(i % 251 for i in range(payload_len)))


def to_idle(d: Draft, *, stored: bool, check_answer: int | None = 404) -> int:
    """Power-on to `idle` (SPEC §8.3); returns the WebSocket's conn_id.

    stored=True: the setup holds STORED_AUTH and stored_cfg() (config 304, then a
    refresh first, SPEC §3.2); False: a blank flash (config 200, claim). The first
    manifest check (SPEC §5.4) is answered 404 no_release unless `check_answer` is None.
    """
    d.start()
    d.feed(WifiUp("10.0.2.15"), after_ms=20)
    if stored:
        d.answer(304, headers={"etag": CONFIG_ETAG}, after_ms=5)
    else:
        d.answer(200, config_body(), headers={"etag": CONFIG_ETAG}, after_ms=5)
    d.feed(TimeSynced(EPOCH), after_ms=10)
    d.answer(200, refresh_body(1) if stored else claim_body(), after_ms=30)
    connect = d.last(WsConnect)
    d.feed(WsOpened(connect.conn_id), after_ms=5)
    d.feed(WsText(connect.conn_id, hello()), after_ms=2)
    if check_answer is not None:
        d.answer(check_answer, error_body("no_release"), after_ms=4)
    return connect.conn_id
