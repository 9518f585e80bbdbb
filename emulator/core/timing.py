"""Timing knobs of the emulated firmware and the backoff rule every retry uses.

`DeviceTiming` (all delays in milliseconds of device uptime) is generated from the
`timing:` table of protocol/device_model.yaml into `protocol.device_model`: the defaults
are fast so tests finish in seconds; `DeviceTiming.realistic()` gives the values SPEC
§2.6 and §6.2 prescribe for a real board (claim backoff 1 s doubling to 30 s ±25 %,
reconnect 2 s doubling to 60 s ±20 %). This module owns `backoff_ms`.
"""

from __future__ import annotations

import random

from protocol.device_model import DeviceTiming

__all__ = ["DeviceTiming", "backoff_ms"]


def backoff_ms(
    *, attempt: int, base_ms: int, max_ms: int, jitter: float, rng: random.Random
) -> int:
    """`base * 2^(attempt-1)` capped at `max_ms`, then ±`jitter` (SPEC §2.6, §6.2)."""
    exponent = max(0, min(attempt - 1, 30))  # 2^30 already exceeds any sensible cap
    delay = min(max_ms, base_ms * (1 << exponent))
    spread = rng.uniform(-jitter, jitter) if jitter > 0 else 0.0
    return max(0, round(delay * (1.0 + spread)))
