"""A scripted device session against a reference server, printed as a report.

``python -m server.smoke --spawn`` (``make demo``) starts an embedded server on a fresh
data dir; ``--url http://host:port`` checks a running one. Each check is one line of the
report (what was sent, what came back, how long it took); the exit status is 0 only if
all held. It exercises the paths every device takes: config with ETag, claim (and its
replay and forgery refusals), the COPPA age gate, and one spoken turn.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import websockets
from websockets.exceptions import InvalidStatusCode

from protocol.claim import ClaimRequest
from protocol.constants import CHAT_PATH, CLAIM_PATH, CONFIG_PATH, DOWNLINK_MAX_FRAME_BYTES
from protocol.crypto import claim_hmac, derive_oob_secret
from protocol.messages import AudioChunk, AudioEnd, AudioStart, encode_message

DEVICE_ID = "Teddy-ESP32-001"
CHILD_ID = "child-001"


@dataclass
class Report:
    rows: list[tuple[bool, str, str, float]] = field(default_factory=list)

    def check(self, name: str, ok: bool, detail: str, started: float) -> bool:
        self.rows.append((ok, name, detail, (time.perf_counter() - started) * 1000))
        return ok

    def render(self) -> str:
        lines = [f"{'result':6}  {'check':34}  {'ms':>7}  detail"]
        for ok, name, detail, ms in self.rows:
            lines.append(f"{'PASS' if ok else 'FAIL':6}  {name:34}  {ms:7.1f}  {detail}")
        passed = sum(1 for r in self.rows if r[0])
        lines.append(f"{passed} passed, {len(self.rows) - passed} failed")
        return "\n".join(lines)

    @property
    def ok(self) -> bool:
        return all(r[0] for r in self.rows)


def signed_claim(nonce: str, *, hmac_hex: str | None = None) -> dict[str, object]:
    oob = derive_oob_secret(DEVICE_ID)
    digest = claim_hmac(oob_secret_hex=oob, device_id=DEVICE_ID, child_id=CHILD_ID, nonce_hex=nonce)
    return ClaimRequest(DEVICE_ID, CHILD_ID, nonce, hmac_hex or digest).to_json()


def check_http(base: str, report: Report) -> str | None:
    """Config, ETag revalidation, claim, replay and forgery; returns the access token."""
    with httpx.Client(base_url=base, timeout=10) as http:
        t = time.perf_counter()
        first = http.get(CONFIG_PATH)
        etag = first.headers.get("etag", "")
        report.check(
            "config 200 + ETag",
            first.status_code == 200 and bool(etag),
            f"{first.status_code} ETag {etag}",
            t,
        )
        t = time.perf_counter()
        again = http.get(CONFIG_PATH, headers={"If-None-Match": etag})
        report.check(
            "config If-None-Match -> 304 + ETag",
            again.status_code == 304 and again.headers.get("etag") == etag,
            f"{again.status_code} ETag {again.headers.get('etag')}",
            t,
        )
        nonce = os.urandom(16).hex()
        t = time.perf_counter()
        claimed = http.post(CLAIM_PATH, json=signed_claim(nonce))
        body = claimed.json() if claimed.status_code == 200 else {}
        fields = {
            "access_token",
            "refresh_token",
            "token_type",
            "expires_in",
            "device_session_id",
            "child_profile",
            "device_config",
        }
        report.check(
            "claim Teddy-ESP32-001 -> 200",
            fields <= set(body),
            f"{claimed.status_code} fields {sorted(body)}",
            t,
        )
        t = time.perf_counter()
        replay = http.post(CLAIM_PATH, json=signed_claim(nonce))
        report.check("same nonce -> 409", replay.status_code == 409, _err(replay), t)
        t = time.perf_counter()
        forged = http.post(CLAIM_PATH, json=signed_claim(os.urandom(16).hex(), hmac_hex="0" * 64))
        report.check("wrong HMAC -> 401", forged.status_code == 401, _err(forged), t)
        token = body.get("access_token")
        return token if isinstance(token, str) else None


def _err(response: httpx.Response) -> str:
    try:
        return f"{response.status_code} {response.json()['error']['code']}"
    except (ValueError, KeyError, TypeError):
        return f"{response.status_code} {response.text[:60]!r}"


def chat_url(ws_base: str, age: str) -> str:
    query = httpx.QueryParams(
        {"device_id": DEVICE_ID, "child_id": CHILD_ID, "child_name": "Mia", "child_age": age}
    )
    return f"{ws_base}{CHAT_PATH}?{query}"


async def check_chat(ws_base: str, token: str, clip: bytes, report: Report) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    t = time.perf_counter()
    try:
        async with websockets.connect(chat_url(ws_base, "14"), extra_headers=headers):
            refused = "accepted"
    except InvalidStatusCode as exc:
        refused = f"HTTP {exc.status_code} before accept"
    report.check("chat with child_age=14 refused", refused.endswith("before accept"), refused, t)
    t = time.perf_counter()
    async with websockets.connect(chat_url(ws_base, "7"), extra_headers=headers) as ws:
        hello = json.loads(await ws.recv())
        report.check(
            "chat age 7 connected",
            hello.get("data", {}).get("type") == "connection_established",
            str(hello.get("data", {}).get("message")),
            t,
        )
        t = time.perf_counter()
        await ws.send(encode_message(AudioStart("smoke-1")))
        for i in range(0, len(clip), 4096):
            await ws.send(encode_message(AudioChunk(clip[i : i + 4096], i // 4096, "smoke-1")))
        await ws.send(encode_message(AudioEnd("smoke-1")))
        end = time.perf_counter()
        frames, text, first_ms = await _collect_reply(ws, end)
        pcm = b"".join(base64.b64decode(str(f["audio_data"])) for f in frames)
        sizes = [len(json.dumps(f)) for f in frames]
        report.check(
            "reply text",
            bool(text.get("text")),
            f"heard {text.get('transcript')!r}, said {text.get('text')!r}",
            t,
        )
        report.check(
            "audio_response frames < 8 KiB",
            bool(frames) and max(sizes) < DOWNLINK_MAX_FRAME_BYTES,
            f"{len(frames)} frames, largest {max(sizes or [0])} B, first after {first_ms:.0f} ms",
            t,
        )
        rms = (
            float(np.sqrt(np.mean(np.frombuffer(pcm, "<i2").astype(np.float64) ** 2))) if pcm else 0
        )
        seconds = len(pcm) / 32000
        report.check(
            "reply is audible 16 kHz speech",
            frames[0].get("sample_rate") == 16000 and seconds > 0.3 and rms > 300,
            f"{seconds:.2f} s, RMS {rms:.0f}",
            t,
        )


async def _collect_reply(
    ws: websockets.WebSocketClientProtocol, end: float
) -> tuple[list[dict[str, object]], dict[str, object], float]:
    text: dict[str, object] = {}
    frames: list[dict[str, object]] = []
    first_ms = 0.0
    while not frames or not frames[-1].get("is_final"):
        message = json.loads(await asyncio.wait_for(ws.recv(), 30))
        if message["type"] == "text_response":
            text = message
        elif message["type"] == "audio_response":
            if not frames:
                first_ms = (time.perf_counter() - end) * 1000
            frames.append(message)
        elif message["type"] == "error":
            raise RuntimeError(f"server error: {message}")
    return frames, text, first_ms


def run_smoke(*, base_url: str, clip: bytes) -> Report:
    report = Report()
    token = check_http(base_url, report)
    if token is not None:
        asyncio.run(check_chat(base_url.replace("http", "ws", 1), token, clip, report))
    return report


def _with_server(action: Callable[[str], Report]) -> Report:
    from server.embedded import EmbeddedServer
    from server.settings import ServerSettings

    with (
        tempfile.TemporaryDirectory(prefix="teddy-demo-") as tmp,
        EmbeddedServer(ServerSettings(data_dir=Path(tmp))) as server,
    ):
        print(f"embedded reference server on {server.base_url} (data {tmp})", flush=True)
        return action(server.base_url)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m server.smoke", description=__doc__)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--url", help="base URL of a running teddy-server")
    where.add_argument("--spawn", action="store_true", help="start an embedded server")
    parser.add_argument("--phrase", default="hello teddy", help="what the child says")
    args = parser.parse_args(argv)
    from server.speech.espeak_tts import EspeakTextToSpeech

    clip = EspeakTextToSpeech().synthesize(args.phrase)
    report = (
        _with_server(lambda url: run_smoke(base_url=url, clip=clip))
        if args.spawn
        else run_smoke(base_url=args.url, clip=clip)
    )
    print(report.render())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
