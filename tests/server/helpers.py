"""Helpers for the reference-server tests: a movable clock, signed claims, error bodies."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from fastapi.testclient import TestClient

from protocol.crypto import claim_hmac, derive_oob_secret
from server.app import create_app
from server.settings import Profile, ServerSettings
from server.speech.espeak_tts import EspeakTextToSpeech
from server.speech.pipeline import SpeechPipeline
from server.speech.responder import RuleBasedResponder
from server.speech.scripted import ScriptedSpeechToText
from server.state import ServerState, build_state


class FakeClock:
    """A clock the test moves by hand (claims, tokens and rate windows read it)."""

    def __init__(self, start: float | None = None) -> None:
        self.now = time.time() if start is None else start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Harness:
    client: TestClient
    state: ServerState
    clock: FakeClock
    data_dir: Path


def scripted_pipeline() -> SpeechPipeline:
    return SpeechPipeline(
        stt=ScriptedSpeechToText(default="hello teddy"),
        responder=RuleBasedResponder(),
        tts=EspeakTextToSpeech(),
    )


def make_harness(
    data_dir: Path, *, profile: Profile = Profile.DEVELOPMENT, clock: FakeClock | None = None
) -> Harness:
    clock = clock or FakeClock()
    settings = ServerSettings(data_dir=data_dir, profile=profile, clock=clock)
    state = build_state(settings, pipeline=scripted_pipeline())
    client = TestClient(create_app(settings, state=state), raise_server_exceptions=False)
    return Harness(client, state, clock, data_dir)


def claim_body(
    device_id: str = "Teddy-ESP32-001",
    child_id: str = "child-001",
    *,
    nonce: str | None = None,
    oob: str | None = None,
    timestamp: int | None = None,
) -> dict[str, object]:
    """A correctly signed claim (SPEC §2.2) with a fresh random nonce unless given."""
    nonce = nonce or os.urandom(16).hex()
    secret = oob or derive_oob_secret(device_id)
    body: dict[str, object] = {
        "device_id": device_id,
        "child_id": child_id,
        "nonce": nonce,
        "hmac_hex": claim_hmac(
            oob_secret_hex=secret, device_id=device_id, child_id=child_id, nonce_hex=nonce
        ),
    }
    if timestamp is not None:
        body["timestamp"] = timestamp
    return body


def error_code(response: object) -> str:
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error"}, body
    assert body["error"]["correlation_id"], body
    code: str = body["error"]["code"]
    return code
