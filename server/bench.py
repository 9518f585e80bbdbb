"""Server benchmarks (``make bench``): claim latency, first reply frame, idle-session memory.

Numbers are printed, never asserted: timing assertions make flaky tests, and the
targets (claim p99 < 20 ms, first reply frame p95 < 300 ms, < 200 KiB per idle session)
belong in a report a human reads. Everything runs on loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
import numpy as np
import websockets
from websockets.legacy.client import WebSocketClientProtocol

from protocol.claim import ClaimRequest
from protocol.constants import CHAT_PATH, CLAIM_PATH, UPLINK_CHUNK_BYTES
from protocol.crypto import claim_hmac, derive_oob_secret
from protocol.messages import AudioChunk, AudioEnd, AudioStart, encode_message
from server.embedded import EmbeddedServer
from server.settings import RateLimits, ServerSettings

UNLIMITED = RateLimits(per_device=10**9, per_ip=10**9)


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def claim_body(device_id: str, child_id: str = "child-001") -> dict[str, object]:
    nonce = os.urandom(16).hex()
    oob = derive_oob_secret(device_id)
    digest = claim_hmac(oob_secret_hex=oob, device_id=device_id, child_id=child_id, nonce_hex=nonce)
    return ClaimRequest(device_id, child_id, nonce, digest).to_json()


def bench_claim(base: str, runs: int) -> list[float]:
    times: list[float] = []
    with httpx.Client(base_url=base) as http:
        for i in range(runs + 20):
            body = claim_body(f"Teddy-ESP32-{i % 50:04d}")
            t = time.perf_counter()
            response = http.post(CLAIM_PATH, json=body)
            elapsed = (time.perf_counter() - t) * 1000
            response.raise_for_status()
            if i >= 20:  # the first requests warm caches and the connection
                times.append(elapsed)
    return times


def chat_url(ws_base: str, device_id: str) -> str:
    query = httpx.QueryParams(
        {"device_id": device_id, "child_id": "child-001", "child_name": "Mia", "child_age": "7"}
    )
    return f"{ws_base}{CHAT_PATH}?{query}"


def two_second_clip() -> bytes:
    from server.speech.espeak_tts import EspeakTextToSpeech

    speech = EspeakTextToSpeech().synthesize("hello teddy tell me a story please")
    target = 2 * 32000
    return (speech + bytes(target))[:target]


async def bench_first_frame(base: str, ws_base: str, runs: int, *, paced: bool) -> list[float]:
    clip = two_second_clip()
    async with httpx.AsyncClient() as http:
        claimed = await http.post(base + CLAIM_PATH, json=claim_body("Teddy-ESP32-BENCH"))
    token = claimed.json()["access_token"]
    times: list[float] = []
    async with websockets.connect(
        chat_url(ws_base, "Teddy-ESP32-BENCH"), extra_headers={"Authorization": f"Bearer {token}"}
    ) as ws:
        await ws.recv()
        for run in range(runs):
            sid = f"bench-{run}"
            await ws.send(encode_message(AudioStart(sid)))
            await ws.recv()
            for i in range(0, len(clip), UPLINK_CHUNK_BYTES):
                chunk = clip[i : i + UPLINK_CHUNK_BYTES]
                await ws.send(encode_message(AudioChunk(chunk, i, sid)))
                if paced:  # a device streams in real time: 128 ms of audio per chunk
                    await asyncio.sleep(len(chunk) / 32000)
            await ws.send(encode_message(AudioEnd(sid)))
            end = time.perf_counter()
            while True:
                message = json.loads(await ws.recv())
                if message["type"] == "audio_response":
                    times.append((time.perf_counter() - end) * 1000)
                    if message["is_final"]:
                        break
                    while not json.loads(await ws.recv())["is_final"]:
                        pass
                    break
    return times


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def start_server_process(port: int, data: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "server.cli", "serve", "--port", str(port)]
    command += ["--data", data, "--log-level", "warning"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    _wait_healthy(f"http://127.0.0.1:{port}", proc)
    return proc


def claim_tokens(base: str, count: int) -> list[str]:
    with httpx.Client(base_url=base) as http:
        bodies = [claim_body(f"Teddy-ESP32-I{i:04d}") for i in range(count)]
        return [str(http.post(CLAIM_PATH, json=body).json()["access_token"]) for body in bodies]


async def open_idle_sessions(ws_base: str, tokens: list[str]) -> list[WebSocketClientProtocol]:
    sockets = []
    for i, token in enumerate(tokens):
        ws = await websockets.connect(
            chat_url(ws_base, f"Teddy-ESP32-I{i:04d}"),
            extra_headers={"Authorization": f"Bearer {token}"},
        )
        await ws.recv()
        sockets.append(ws)
    return sockets


async def close_all(sockets: list[WebSocketClientProtocol]) -> None:
    await asyncio.gather(*(ws.close() for ws in sockets))


def bench_idle_memory(sessions: int, port: int) -> tuple[int, int]:
    """RSS of a separate server process before and after ``sessions`` idle connections."""
    with tempfile.TemporaryDirectory(prefix="teddy-bench-") as tmp:
        proc = start_server_process(port, tmp)
        try:
            tokens = claim_tokens(f"http://127.0.0.1:{port}", sessions)
            before = rss_kib(proc.pid)
            loop = asyncio.new_event_loop()
            sockets = loop.run_until_complete(open_idle_sessions(f"ws://127.0.0.1:{port}", tokens))
            after = rss_kib(proc.pid)
            loop.run_until_complete(close_all(sockets))
            loop.close()
            return before, after
        finally:
            proc.terminate()
            proc.wait(10)


def _wait_healthy(base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(base + "/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)  # polling the health endpoint; the condition is checked above
    raise RuntimeError("server did not become healthy in 60 s")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m server.bench", description=__doc__)
    parser.add_argument("--claims", type=int, default=500)
    parser.add_argument("--turns", type=int, default=12)
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--port", type=int, default=18765)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="teddy-bench-") as tmp:
        settings = ServerSettings(data_dir=Path(tmp), rate_limits=UNLIMITED)
        with EmbeddedServer(settings) as server:
            claims = bench_claim(server.base_url, args.claims)
            print(
                f"claim round trip (n={len(claims)}): p50 {percentile(claims, 50):.2f} ms, "
                f"p99 {percentile(claims, 99):.2f} ms  (target p99 < 20 ms)"
            )
            for paced in (True, False):
                first = asyncio.run(
                    bench_first_frame(server.base_url, server.ws_url, args.turns, paced=paced)
                )
                mode = "real-time paced" if paced else "burst"
                print(
                    f"2 s utterance end -> first audio_response ({mode}, n={len(first)}): "
                    f"p50 {statistics.median(first):.1f} ms, p95 {percentile(first, 95):.1f} ms"
                    "  (target p95 < 300 ms)"
                )
    before, after = bench_idle_memory(args.sessions, args.port)
    per = (after - before) / args.sessions
    print(
        f"idle sessions: RSS {before} KiB -> {after} KiB with {args.sessions} sessions, "
        f"{per:.1f} KiB per session  (target < 200 KiB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
