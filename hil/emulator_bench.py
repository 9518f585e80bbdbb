"""Emulator benchmarks (``make bench``): boot -> claim.ok, and a fleet streaming at once.

In `hil`, not `emulator`, because they start the reference server beside the devices.

Printed, never asserted. Devices and server run on loopback in one process; timings are
wall-clock times taken when each event line is printed, so they include the console path
the harness reads. ``--stt scripted`` (a named, deterministic speech-to-text engine)
measures the server and transport; ``--stt pocketsphinx`` adds real recognition, which on
2 cores cannot keep up with 50 simultaneous talkers (it decodes ~7x faster than real time
per core), so its numbers show queueing, not the network path.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from emulator.host import DeviceSettings, EmulatorHost
from protocol.eventline import parse_event_line
from server.embedded import EmbeddedServer
from server.settings import RateLimits, ServerSettings
from server.speech.espeak_tts import EspeakTextToSpeech
from server.speech.pipeline import SpeechPipeline
from server.speech.responder import RuleBasedResponder
from server.speech.scripted import ScriptedSpeechToText
from server.speech.tts_cache import CachingTextToSpeech
from server.state import build_state

UNLIMITED = RateLimits(per_device=10**9, per_ip=10**9)


@dataclass
class Watch:
    """Wall-clock times of each event name, as the lines arrive."""

    seen: dict[str, list[float]] = field(default_factory=dict)
    waiters: dict[str, asyncio.Event] = field(default_factory=dict)

    def on_line(self, line: str) -> None:
        event = parse_event_line(line) if line.startswith("@teddy ") else None
        if event is None:
            return
        self.seen.setdefault(event.name, []).append(time.perf_counter())
        waiter = self.waiters.get(event.name)
        if waiter is not None:
            waiter.set()

    async def wait(self, name: str, *, count: int = 1, within_s: float = 60) -> float:
        deadline = time.perf_counter() + within_s
        while len(self.seen.get(name, [])) < count:
            waiter = self.waiters.setdefault(name, asyncio.Event())
            waiter.clear()
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise TimeoutError(f"no {name} #{count} within {within_s} s")
            await asyncio.wait_for(waiter.wait(), remaining)
        return self.seen[name][count - 1]


def pipeline(stt: str) -> SpeechPipeline:
    if stt == "pocketsphinx":
        from server.engines import default_pipeline

        return default_pipeline(env={})
    return SpeechPipeline(
        stt=ScriptedSpeechToText(default="hello teddy"),
        responder=RuleBasedResponder(),
        tts=CachingTextToSpeech(EspeakTextToSpeech()),
    )


def settings_for(server: EmbeddedServer, root: Path, index: int, pacing: str) -> DeviceSettings:
    home = root / f"dev{index:03d}"
    return DeviceSettings(
        server_url=server.base_url,
        flash_dir=home / "flash",
        audio_dir=home / "audio",
        device_id=f"Teddy-ESP32-B{index:04d}",
        pacing=pacing,
        seed=index,
    )


async def bench_boot(server: EmbeddedServer, root: Path, runs: int) -> list[float]:
    times: list[float] = []
    for i in range(runs):
        watch = Watch()
        host = EmulatorHost(settings_for(server, root / "boot", i, "fast"), on_line=watch.on_line)
        start = time.perf_counter()
        await host.start()
        claimed = await watch.wait("claim.ok")
        times.append((claimed - start) * 1000)
        await host.stop()
    return times


async def bench_fleet(server: EmbeddedServer, root: Path, devices: int) -> tuple[list[float], int]:
    watches = [Watch() for _ in range(devices)]
    hosts = [
        EmulatorHost(settings_for(server, root / "fleet", i, "realtime"), on_line=w.on_line)
        for i, w in enumerate(watches)
    ]
    await asyncio.gather(*(h.start() for h in hosts))
    await asyncio.gather(*(w.wait("ws.open") for w in watches))
    await asyncio.gather(*(h.write_line('talk "hello teddy"') for h in hosts))
    results = await asyncio.gather(*(_first_frame_ms(w) for w in watches), return_exceptions=True)
    await asyncio.gather(*(h.stop() for h in hosts))
    latencies = [r for r in results if isinstance(r, float)]
    return latencies, devices - len(latencies)


async def _first_frame_ms(watch: Watch) -> float:
    sent = await watch.wait("audio.tx.end", within_s=120)
    first = await watch.wait("audio.rx.start", within_s=120)
    return (first - sent) * 1000


def run(*, boots: int, devices: int, stt: str) -> None:
    with tempfile.TemporaryDirectory(prefix="teddy-emu-bench-") as tmp:
        root = Path(tmp)
        settings = ServerSettings(data_dir=root / "server", rate_limits=UNLIMITED)
        state = build_state(settings, pipeline=pipeline(stt))
        with EmbeddedServer(settings, state=state) as server:
            boot = asyncio.run(bench_boot(server, root, boots))
            print(
                f"emulator boot -> claim.ok (n={len(boot)}, fresh flash each): "
                f"p50 {statistics.median(boot):.1f} ms, max {max(boot):.1f} ms"
                "  (target p50 < 100 ms)"
            )
            latencies, failed = asyncio.run(bench_fleet(server, root, devices))
            p50 = float(np.percentile(latencies, 50)) if latencies else float("nan")
            p99 = float(np.percentile(latencies, 99)) if latencies else float("nan")
            print(
                f"{devices} devices talking at once, real-time paced, stt={stt}: "
                f"end of utterance -> first audio_response p50 {p50:.0f} ms, p99 {p99:.0f} ms, "
                f"{failed} without a reply  (target p99 < 500 ms)"
            )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hil.emulator_bench", description=__doc__)
    parser.add_argument("--boots", type=int, default=20)
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--stt", choices=("scripted", "pocketsphinx"), default="scripted")
    args = parser.parse_args(argv)
    run(boots=args.boots, devices=args.devices, stt=args.stt)
    return 0


if __name__ == "__main__":
    sys.exit(main())
