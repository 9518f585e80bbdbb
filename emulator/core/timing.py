"""Timing knobs of the emulated firmware and the backoff rule every retry uses.

Owns `DeviceTiming` (all delays in milliseconds of device uptime) and `backoff_ms`. The
defaults are fast so tests finish in seconds; `DeviceTiming.realistic()` gives the values
SPEC §2.6 and §6.2 prescribe for a real board (claim backoff 1 s doubling to 30 s ±25 %,
reconnect 2 s doubling to 60 s ±20 %).
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class DeviceTiming:
    """Every delay the device core waits for; `now_ms` arithmetic only, no clock reads."""

    # SPEC §2.6: claim retry 1 s * 2^(attempt-1), at most 30 s, ±25 % jitter.
    claim_backoff_base_ms: int = 100
    claim_backoff_max_ms: int = 30_000
    claim_jitter: float = 0.25
    # SPEC §6.2: reconnect 2 s doubling to 60 s, ±20 %, reset after 60 s connected.
    reconnect_base_ms: int = 100
    reconnect_max_ms: int = 60_000
    reconnect_jitter: float = 0.2
    reconnect_reset_ms: int = 60_000
    # SPEC §6.2: after close 4001 do not reconnect automatically for 60 s.
    session_replaced_holdoff_ms: int = 60_000
    # None: the server's heartbeat_interval (SPEC §2.5, §4.1).
    heartbeat_interval_ms: int | None = None
    # SPEC §5.5: a pending-verify image must reach ws.open within this limit.
    self_test_limit_ms: int = 5_000
    # SPEC §5.4: check every 6 hours after the first check.
    ota_check_interval_ms: int = 6 * 3600 * 1000
    # SPEC §5.2: retry a cut download (with Range) after this pause, 5 attempts in all.
    ota_retry_ms: int = 100
    ota_max_attempts: int = 5
    # SPEC §4.3: re-fetch the config when the cached copy is older than max-age (600 s).
    config_max_age_ms: int = 600_000
    # SPEC §3.2: refresh when less than 60 s of the access lifetime remain.
    token_refresh_margin_ms: int = 60_000
    # How long joining the (simulated) Wi-Fi takes.
    wifi_join_ms: int = 0
    # HTTP request timeout of the device's client.
    http_timeout_ms: int = 10_000

    @classmethod
    def realistic(cls) -> DeviceTiming:
        """The values a real board uses (SPEC §2.6, §5.5, §6.2)."""
        return cls(
            claim_backoff_base_ms=1_000,
            reconnect_base_ms=2_000,
            self_test_limit_ms=60_000,
            ota_retry_ms=2_000,
            wifi_join_ms=1_500,
            http_timeout_ms=15_000,
        )


def backoff_ms(
    *, attempt: int, base_ms: int, max_ms: int, jitter: float, rng: random.Random
) -> int:
    """`base * 2^(attempt-1)` capped at `max_ms`, then ±`jitter` (SPEC §2.6, §6.2)."""
    exponent = max(0, min(attempt - 1, 30))  # 2^30 already exceeds any sensible cap
    delay = min(max_ms, base_ms * (1 << exponent))
    spread = rng.uniform(-jitter, jitter) if jitter > 0 else 0.0
    return max(0, round(delay * (1.0 + spread)))
