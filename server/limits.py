"""Replay and rate protection for the claim endpoint (SPEC §2.4, §2.6).

Both live in memory by default and sit behind small interfaces so that a Redis
backend (``SET NX EX`` for nonces, a sorted set per key for the sliding window) can
replace them when several server processes share the load. Time is passed
in, never read here, so tests drive the windows exactly.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Protocol


class NonceStore(Protocol):
    def consume(self, *, scope: str, nonce: str, now: float, ttl_s: float) -> bool:
        """Record ``nonce`` for ``scope``; False if it was already used within ``ttl_s``."""
        ...


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    retry_after_s: int = 0


class RateLimiter(Protocol):
    def hit(self, *, key: str, limit: int, window_s: float, now: float) -> RateDecision:
        """Count one request for ``key``; refuse it when ``limit`` are already in the window."""
        ...


class MemoryNonceStore:
    """Nonces kept in a dict with expiry; expired entries are swept as the store grows."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()
        self._next_sweep = 1024

    def consume(self, *, scope: str, nonce: str, now: float, ttl_s: float) -> bool:
        key = (scope, nonce)
        with self._lock:
            expires = self._seen.get(key)
            if expires is not None and expires > now:
                return False
            self._seen[key] = now + ttl_s
            if len(self._seen) >= self._next_sweep:
                self._sweep(now)
            return True

    def _sweep(self, now: float) -> None:
        self._seen = {k: exp for k, exp in self._seen.items() if exp > now}
        self._next_sweep = max(1024, 2 * len(self._seen))

    def __len__(self) -> int:
        return len(self._seen)


class MemorySlidingWindowLimiter:
    """A sliding-window log per key: exact, and small at claim rates."""

    def __init__(self) -> None:
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, *, key: str, limit: int, window_s: float, now: float) -> RateDecision:
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - window_s:
                hits.popleft()
            if len(hits) >= limit:
                # The oldest hit leaving the window frees the next slot (SPEC §2.6).
                wait = hits[0] + window_s - now
                return RateDecision(allowed=False, retry_after_s=max(1, int(wait + 0.999)))
            hits.append(now)
            return RateDecision(allowed=True)
