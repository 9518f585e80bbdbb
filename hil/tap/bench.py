"""`python -m hil.tap.bench`: the wire tap's added latency with real-time audio streams.

50 WebSocket clients (by default) each send one `audio_chunk` (4096 PCM bytes as base64
in SPEC §6.2 JSON, ~5.6 KB) every 128 ms, as a device streams an utterance (SPEC §7.2);
an echo server (websockets, on its own thread, permessage-deflate on as with the
reference server) sends every message back. The same load runs once straight to the
server and once through a `WireTap` on the clients' event loop, as the runner runs it
(`--thread`: a `ThreadedTap` instead), writing a real wire.jsonl, and the bench prints:

- `forward`: inside the tap, from a chunk's arrival (`data_received`) to its write to the
  other socket: the delay the tap adds to every byte;
- `decode + record`: the decoding that follows, per batch, the longest a chunk arriving
  meanwhile can wait behind it;
- the round-trip times (client -> server -> client, twice through the tap) direct and
  tapped, whose difference is what a device would notice.

Numbers only (README "Benchmarks"); no test asserts on them.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import websockets
from websockets.legacy.server import WebSocketServerProtocol

from hil.streams import ScenarioClock, WireLog
from hil.tap import relay
from hil.tap.tap import ThreadedTap, WireTap

CHUNK_PERIOD_S: Final = 0.128  # SPEC §7.2
PCM_BYTES: Final = 4096


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def ms(values: list[float]) -> str:
    p50, p99 = percentile(values, 0.5) * 1e3, percentile(values, 0.99) * 1e3
    return f"p50 {p50:.3f} ms  p99 {p99:.3f} ms  max {max(values) * 1e3:.3f} ms  (n={len(values)})"


class EchoServer:
    """A websockets server on its own thread that sends every message back."""

    def __init__(self) -> None:
        self.port = 0
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _echo(self, ws: WebSocketServerProtocol) -> None:
        async for message in ws:
            await ws.send(message)

    async def _main(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        async with websockets.serve(self._echo, "127.0.0.1", 0, max_size=1 << 20) as server:
            self.port = next(iter(server.sockets)).getsockname()[1]
            self._ready.set()
            await self._stop.wait()

    def __enter__(self) -> EchoServer:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


# A ramp of bytes; each chunk is a slice of it at its own offset. Slicing costs microseconds,
# where building 4096 bytes in Python cost ~0.4 ms on the tap's own event loop per chunk and
# showed up as tap latency (the clients, like the runner's emulator, share that loop).
_RAMP = bytes(range(256)) * (PCM_BYTES // 256 + 2)


def chunk_message(stream: int, seq: int) -> str:
    offset = (stream * 31 + seq) & 0xFF
    pcm = _RAMP[offset : offset + PCM_BYTES]
    return json.dumps(
        {
            "type": "audio_chunk",
            "audio_session_id": f"bench-{stream}",
            "chunk_id": str(seq),
            "audio_data": base64.b64encode(pcm).decode(),
            "timestamp": "2025-01-01T00:00:00.000Z",
        },
        separators=(",", ":"),
    )


async def one_stream(url: str, stream: int, count: int, rtts: list[float]) -> None:
    async with websockets.connect(url, max_size=1 << 20) as ws:
        await asyncio.sleep(stream * CHUNK_PERIOD_S / 50)  # spread the streams over a period
        start = time.perf_counter()
        for seq in range(count):
            message = chunk_message(stream, seq)
            sent = time.perf_counter()
            await ws.send(message)
            echoed = await ws.recv()
            rtts.append(time.perf_counter() - sent)
            assert echoed == message, "the echo differs from what was sent"
            wait = start + (seq + 1) * CHUNK_PERIOD_S - time.perf_counter()
            await asyncio.sleep(max(0.0, wait))


async def load(url: str, streams: int, count: int) -> list[float]:
    rtts: list[float] = []
    await asyncio.gather(*(one_stream(url, i, count, rtts) for i in range(streams)))
    return rtts


async def load_in_loop(upstream: str, wire: WireLog, streams: int, count: int) -> list[float]:
    """The same load with a `WireTap` on the clients' own event loop."""
    tap = WireTap(upstream, sink=wire.add_record, clock=wire.now)
    await tap.start()
    try:
        return await load(tap.ws_url, streams, count)
    finally:
        await tap.stop()


@contextmanager
def timed_relay() -> Iterator[tuple[list[float], list[float]]]:
    """Time the relay: `received` (arrival -> written on) and `decode` (per batch)."""
    forward: list[float] = []
    decoding: list[float] = []
    received, decode = relay.TappedConnection.received, relay.TappedConnection.decode

    def timed_received(self: relay.TappedConnection, side: Any, data: bytes) -> None:
        began = time.perf_counter()
        received(self, side, data)
        forward.append(time.perf_counter() - began)

    def timed_decode(self: relay.TappedConnection) -> None:
        began = time.perf_counter()
        decode(self)
        decoding.append(time.perf_counter() - began)

    relay.TappedConnection.received = timed_received  # type: ignore[method-assign]
    relay.TappedConnection.decode = timed_decode  # type: ignore[method-assign]
    try:
        yield forward, decoding
    finally:
        relay.TappedConnection.received = received  # type: ignore[method-assign]
        relay.TappedConnection.decode = decode  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hil.tap.bench", description=__doc__)
    parser.add_argument("--streams", type=int, default=50, help="concurrent streams (50)")
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each run (8)")
    parser.add_argument(
        "--thread",
        action="store_true",
        help="run the tap on its own thread (ThreadedTap) instead of the clients' event loop",
    )
    args = parser.parse_args(argv)
    count = max(1, int(args.seconds / CHUNK_PERIOD_S))
    where = "its own thread" if args.thread else "the clients' event loop (as in the runner)"
    print(f"wire tap on {where}: {args.streams} streams x {count} chunks of ~5.6 KB")
    print("  every 128 ms each (SPEC §7.2), echoed by the server")
    with EchoServer() as echo, tempfile.TemporaryDirectory() as tmp:
        direct = asyncio.run(load(f"ws://127.0.0.1:{echo.port}", args.streams, count))
        wire = WireLog(label="wire", log_path=Path(tmp) / "wire.jsonl", clock=ScenarioClock())
        upstream = f"http://127.0.0.1:{echo.port}"
        with timed_relay() as (forward, handled):
            if not args.thread:
                tapped = asyncio.run(load_in_loop(upstream, wire, args.streams, count))
            else:
                tap = ThreadedTap(upstream, sink=wire.add_record, clock=wire.now)
                tap.start()
                try:
                    tapped = asyncio.run(load(tap.ws_url, args.streams, count))
                finally:
                    tap.stop()
        wire.close()
        messages = sum(1 for r in wire.records if r.name == "ws")
    print(f"  forward (arrival -> written on): {ms(forward)}")
    print(f"  decode + record (after forwarding): {ms(handled)}")
    print(f"  round trip direct:  {ms(direct)}")
    print(f"  round trip tapped:  {ms(tapped)}")
    added50 = (statistics.median(tapped) - statistics.median(direct)) * 1e3
    added99 = (percentile(tapped, 0.99) - percentile(direct, 0.99)) * 1e3
    print(f"  added by the tap (two passes): p50 {added50:+.3f} ms  p99 {added99:+.3f} ms")
    print(f"  wire.jsonl: {messages} ws records")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
