"""One reference server per scenario: settings, `given:` state, the event pump, the tap.

Each scenario gets its own `EmbeddedServer` with its own data dir inside the
scenario's artifact folder, so scenarios never see each other's devices, tokens or
releases. In front of it runs the scenario's wire tap (hil.tap): `ServerHandle.device_url`
is the tap, the URL every target is given; `base_url` stays the server itself. The
speech pipeline is the expensive part (decoder creation ~0.45 s), so one pipeline is
built per process and shared by every server (`shared_pipeline`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from hil.runner.releases import publish
from hil.scenario.model import ReleaseSpec, Scenario, ServerSpec
from hil.streams import ServerEventLog, WireLog
from hil.tap.tap import WireTap
from hil.tap.wire_audio import WIRE_AUDIO_DIR
from hil.targets.base import (
    SERVER_AUDIO,
    SERVER_CONTROL,
    SERVER_EVENTS,
    SERVER_FAULTS,
    SERVER_FILES,
    WIRE,
)
from protocol.server_quirks import Quirks
from server.embedded import EmbeddedServer
from server.engines import default_pipeline
from server.events import EventQueue
from server.provision import apply_provisioning
from server.settings import Profile, RateLimits, ServerSettings
from server.speech.pipeline import SpeechPipeline
from server.state import ServerState, build_state
from server.store import Release

PUMP_INTERVAL_S: Final = 0.02
# Beside the data folder in the scenario's artifact folder: what the server's recogniser
# received of each utterance (server.received_audio; never inside the data folder, which
# privacy scenarios check for audio).
SERVER_AUDIO_DIR: Final = "server-audio"
_pipeline: SpeechPipeline | None = None


def shared_pipeline() -> SpeechPipeline:
    """The process-wide default speech pipeline, built on first use."""
    global _pipeline
    if _pipeline is None:
        _pipeline = default_pipeline()
    return _pipeline


def server_capabilities() -> frozenset[str]:
    """What this server build offers scenarios (known before anything starts)."""
    names = {f.name for f in dataclasses.fields(ServerState)}
    offered = {
        SERVER_CONTROL: True,  # a fresh server per scenario, set up as the scenario says
        SERVER_EVENTS: "events" in names,
        SERVER_FAULTS: "faults" in names,
        SERVER_FILES: True,  # every embedded server keeps its data in the scenario's folder
        SERVER_AUDIO: "received_audio" in names,  # settings_for sets received_audio_dir
    }
    return frozenset(cap for cap, ok in offered.items() if ok)


def runner_capabilities() -> frozenset[str]:
    """What the runner itself offers: the wire tap in front of every scenario's server."""
    return frozenset({WIRE})


def received_audio_dir(data_dir: Path) -> Path:
    """Where the embedded server of the scenario whose data folder is `data_dir` writes
    received audio: `server-audio` in the same artifact folder."""
    return data_dir.parent / SERVER_AUDIO_DIR


def settings_for(spec: ServerSpec, *, data_dir: Path) -> ServerSettings:
    """ServerSettings for a scenario's `server:` (unset values keep the server defaults);
    the received audio goes to the scenario's `server-audio` (capability server_audio),
    except under the production profile, which refuses it (SPEC §6.5 rule 10)."""
    default = ServerSettings(data_dir=data_dir)
    limits = default.rate_limits
    if spec.rate_limits is not None:
        per_device, per_ip, window = spec.rate_limits
        limits = RateLimits(per_device=per_device, per_ip=per_ip, window_s=window)
    keep_audio = spec.keep_utterance_audio
    profile = Profile(spec.profile)
    return ServerSettings(
        data_dir=data_dir,
        profile=profile,
        access_ttl_s=spec.access_ttl_s or default.access_ttl_s,
        refresh_ttl_s=spec.refresh_ttl_s or default.refresh_ttl_s,
        heartbeat_interval_s=spec.heartbeat_interval_s or default.heartbeat_interval_s,
        rate_limits=limits,
        keep_utterance_audio=default.keep_utterance_audio if keep_audio is None else keep_audio,
        chat_path=spec.chat_path or default.chat_path,
        quirks=Quirks.named(spec.quirks),
        received_audio_dir=received_audio_dir(data_dir) if profile is Profile.DEVELOPMENT else None,
    )


@dataclass
class ServerHandle:
    server: EmbeddedServer
    state: ServerState
    data_dir: Path
    seed: str
    pump: asyncio.Task[None] | None = field(default=None)
    tap: WireTap | None = field(default=None)

    @property
    def base_url(self) -> str:
        """The server itself (`${server.direct_url}`)."""
        return self.server.base_url

    @property
    def device_url(self) -> str:
        """What the device is given: the tap in front of the server (`${server.url}`)."""
        return self.tap.url if self.tap is not None else self.server.base_url

    @property
    def device_ws_url(self) -> str:
        return self.tap.ws_url if self.tap is not None else self.server.ws_url

    def publish(self, spec: ReleaseSpec) -> Release:
        return publish(spec, state=self.state, data_dir=self.data_dir, seed=self.seed)


def provision(scenario: Scenario, state: ServerState, *, data_dir: Path) -> None:
    """Apply `given:` (devices, children, config, releases) to a fresh store."""
    apply_provisioning(state.store, scenario.given.provisioning, now=time.time())
    for release in scenario.given.releases:
        publish(release, state=state, data_dir=data_dir, seed=scenario.name)


async def start_server(
    scenario: Scenario, *, data_dir: Path, pipeline: SpeechPipeline, log: ServerEventLog
) -> ServerHandle:
    settings = settings_for(scenario.server, data_dir=data_dir)
    state = build_state(settings, pipeline=pipeline)
    try:
        provision(scenario, state, data_dir=data_dir)
    except BaseException:
        state.store.close()
        raise
    # Subscribe before the socket opens so not one event is missed.
    bus = getattr(state, "events", None)
    queue = bus.subscribe() if bus is not None else None
    server = EmbeddedServer(settings, state=state)
    try:
        await asyncio.to_thread(server.start)
    except BaseException:
        if queue is not None:
            queue.close()
        raise
    handle = ServerHandle(server=server, state=state, data_dir=data_dir, seed=scenario.name)
    if queue is not None:
        handle.pump = asyncio.create_task(_pump(queue, log), name="hil-server-events")
    return handle


async def _pump(queue: EventQueue, log: ServerEventLog) -> None:
    """Copy server events into the log (the bus is thread-safe; we poll its queue)."""
    try:
        while True:
            for event in queue.drain():
                log.add_event(event.name, dict(event.data), server_time=event.t)
            await asyncio.sleep(PUMP_INTERVAL_S)
    finally:
        for event in queue.drain():
            log.add_event(event.name, dict(event.data), server_time=event.t)
        queue.close()


async def start_tap(handle: ServerHandle, log: WireLog) -> None:
    """Put a wire tap in front of the server; its records go to `log` (wire.jsonl).

    The tap runs on the runner's event loop (hil/tap/bench.py measured it against a
    thread of its own: the GIL handover made the thread slower). The audio that crosses it
    goes to `wire-audio/` beside wire.jsonl (hil.tap.wire_audio).
    """
    tap = WireTap(
        handle.base_url, sink=log.add_record, clock=log.now, audio_dir=wire_audio_dir(log)
    )
    await tap.start()
    handle.tap = tap


def wire_audio_dir(log: WireLog) -> Path:
    """`wire-audio/` in the scenario's artifact folder, beside its wire.jsonl."""
    return log.log_path.parent / WIRE_AUDIO_DIR


async def stop_server(handle: ServerHandle) -> None:
    if handle.tap is not None:
        await handle.tap.stop()
    if handle.pump is not None:
        handle.pump.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await handle.pump
    await asyncio.to_thread(handle.server.stop)
