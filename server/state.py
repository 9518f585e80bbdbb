"""The objects one server instance is made of, built once by the app factory.

Routes receive this through ``request.app.state.teddy`` instead of module globals, so
several servers (one per scenario, or per pytest-xdist worker) run in one process
without sharing anything.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from server.claim_service import ClaimService
from server.events import EventBus
from server.faults import FaultPlan
from server.limits import MemoryNonceStore, MemorySlidingWindowLimiter, NonceStore, RateLimiter
from server.received_audio import ReceivedAudio, received_audio_for
from server.settings import ServerSettings
from server.speech_capacity import SpeechCapacity, slots_for_memory
from server.store import Store
from server.tokens import TokenService, load_or_create_key
from server.utterance_audio import UtteranceAudioKeeper, keeper_for

if TYPE_CHECKING:
    from server.speech.pipeline import SpeechPipeline


@dataclass
class ConnectionRegistry:
    """The one live WebSocket per device (a new one replaces it: SPEC §6.2, close 4001)."""

    by_device: dict[str, asyncio.Event] = field(default_factory=dict)

    def register(self, device_key: str) -> asyncio.Event:
        """Register a new connection; the returned event is set when it gets replaced."""
        previous = self.by_device.get(device_key)
        if previous is not None:
            previous.set()
        replaced = asyncio.Event()
        self.by_device[device_key] = replaced
        return replaced

    def unregister(self, device_key: str, replaced: asyncio.Event) -> None:
        if self.by_device.get(device_key) is replaced:
            del self.by_device[device_key]

    def __len__(self) -> int:
        return len(self.by_device)


@dataclass
class ServerState:
    settings: ServerSettings
    store: Store
    tokens: TokenService
    claims: ClaimService
    pipeline: SpeechPipeline
    connections: ConnectionRegistry
    events: EventBus
    faults: FaultPlan
    # Writes utterance audio only under `keep_utterance_audio` (SPEC §6.5 rule 10).
    audio_keeper: UtteranceAudioKeeper | None = None
    # Writes what each utterance's recogniser received, for a test run (`received_audio_dir`).
    received_audio: ReceivedAudio | None = None
    # Decoder slots shared by all connections (SPEC §6.5 rule 11); built by build_state.
    speech_capacity: SpeechCapacity | None = None


def capacity_for(settings: ServerSettings, pipeline: SpeechPipeline) -> SpeechCapacity:
    """The capacity queue; its slots follow the engine's decoder pool when it has one."""
    pool = getattr(pipeline.stt, "max_streams", None)
    slots = pool if isinstance(pool, int) else slots_for_memory(settings.speech_memory_mb)
    return SpeechCapacity(
        slots=slots, max_waiters=settings.speech_queue, wait_s=settings.speech_wait_s
    )


def build_state(
    settings: ServerSettings,
    *,
    pipeline: SpeechPipeline,
    nonces: NonceStore | None = None,
    limiter: RateLimiter | None = None,
) -> ServerState:
    audio_keeper = keeper_for(settings)  # refuses before anything is created
    received_audio = received_audio_for(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store(settings.data_dir / "teddy.sqlite3")
    tokens = TokenService(
        key=load_or_create_key(settings.data_dir),
        access_ttl_s=settings.access_ttl_s,
        refresh_ttl_s=settings.refresh_ttl_s,
    )
    claims = ClaimService(
        settings=settings,
        store=store,
        tokens=tokens,
        nonces=nonces or MemoryNonceStore(),
        limiter=limiter or MemorySlidingWindowLimiter(),
    )
    return ServerState(
        settings=settings,
        store=store,
        tokens=tokens,
        claims=claims,
        pipeline=pipeline,
        connections=ConnectionRegistry(),
        events=EventBus(settings.clock),
        faults=FaultPlan(),
        audio_keeper=audio_keeper,
        received_audio=received_audio,
        speech_capacity=capacity_for(settings, pipeline),
    )
