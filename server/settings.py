"""Settings of one reference-server instance (profile, data dir, limits, clock).

The profile decides the claim behaviour of SPEC §2.7: ``development`` auto-registers
``Teddy-ESP32-*`` devices and creates unknown children as consented test profiles;
``production`` does neither. Time is read through ``clock`` so tests can move it.
``timeouts`` are the transport deadlines of SPEC §1.4 (``server.serving`` enforces them).
``quirks`` puts named defects of the original server back (SPEC Appendix B,
``protocol.server_quirks``); the production profile refuses every one of them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from protocol.constants import CHAT_PATH
from protocol.server_quirks import Quirks
from server.chat_session import UtteranceLimits
from server.errors import ConfigurationError
from server.speech_capacity import DEFAULT_SPEECH_MEMORY_MB


class Profile(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


@dataclass(frozen=True)
class RateLimits:
    """Claim rate limits of SPEC §2.6 (sliding windows)."""

    per_device: int = 10
    per_ip: int = 120
    window_s: float = 60.0


@dataclass(frozen=True)
class ConnectionTimeouts:
    """Transport deadlines of one HTTP connection (SPEC §1.4), in seconds.

    ``header_read_s`` runs from the connection's opening (or the end of the previous
    response) until the request head is complete, so a connection that opens and sends
    nothing is closed after it too; ``body_read_s`` runs from the complete head until the
    complete body; ``idle_keep_alive_s`` is how long a kept-alive connection may wait for
    its next request's first byte after a response. A WebSocket, once upgraded, has none
    of these: its idle limit is 3 x ``heartbeat_interval_s`` (SPEC §6.6).
    """

    header_read_s: float = 10.0
    body_read_s: float = 30.0
    idle_keep_alive_s: float = 5.0

    def __post_init__(self) -> None:
        for name in ("header_read_s", "body_read_s", "idle_keep_alive_s"):
            value = getattr(self, name)
            if not value > 0 or value == float("inf"):
                raise ConfigurationError(
                    f"connection timeout {name} must be a positive number of seconds, got"
                    f" {value!r} (SPEC §1.4)"
                )


@dataclass(frozen=True)
class ServerSettings:
    data_dir: Path
    profile: Profile = Profile.DEVELOPMENT
    access_ttl_s: int = 3600
    refresh_ttl_s: int = 7 * 24 * 3600
    heartbeat_interval_s: int = 30
    rate_limits: RateLimits = field(default_factory=RateLimits)
    # Header read, body read and idle keep-alive deadlines of the transport (SPEC §1.4).
    timeouts: ConnectionTimeouts = field(default_factory=ConnectionTimeouts)
    public_host: str | None = None
    public_port: int | None = None
    tls: bool = False
    app_version: str = "1.3.0"
    default_firmware_version: str = "1.0.0"
    keep_utterance_audio: bool = False
    # A test run's copy of what each utterance's recogniser received (SPEC §6.5 rule 10,
    # server.received_audio): outside the data folder, development profile only; None: off.
    received_audio_dir: Path | None = None
    # Where the chat WebSocket is served (SPEC §2.5, §4.1): a deployment behind a gateway may
    # use another path; the claim's websocket_url and the config's ws_path follow it.
    chat_path: str = CHAT_PATH
    # The harness admin API (SPEC §11) is served only with a token; never in production.
    harness_token: str | None = None
    # Defects of the original server to reproduce (SPEC Appendix B); empty: none.
    quirks: Quirks = field(default_factory=Quirks)
    # Utterance limits and speech capacity (SPEC §6.5 rule 11, §6.6): wall-clock length from
    # audio_start, longest gap between chunks, decoder memory (pairs of ~120 MB), how long and
    # how many devices may wait for a decoder before `busy`.
    utterance_max_s: float = UtteranceLimits.max_s
    utterance_silence_s: float = UtteranceLimits.silence_s
    speech_memory_mb: int = DEFAULT_SPEECH_MEMORY_MB
    speech_wait_s: float = 5.0
    speech_queue: int = 16
    clock: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        if min(self.utterance_max_s, self.utterance_silence_s, self.speech_wait_s) <= 0:
            raise ConfigurationError("utterance and speech-wait limits must be positive seconds")
        if self.speech_memory_mb < 1 or self.speech_queue < 0:
            raise ConfigurationError("speech_memory_mb must be >= 1 and speech_queue >= 0")
        # A legacy defect is a test fixture, never something a real deployment may run with.
        if self.quirks and not self.development:
            raise ConfigurationError(
                f"quirks ({', '.join(self.quirks.names())}) reproduce defects of the original"
                " server and are for the development profile only (SPEC Appendix B); drop"
                " them or use --profile development"
            )

    @property
    def development(self) -> bool:
        return self.profile is Profile.DEVELOPMENT
