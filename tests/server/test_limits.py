"""In-memory nonce store and sliding-window limiter (SPEC §2.4, §2.6)."""

from __future__ import annotations

import pytest

from server.limits import MemoryNonceStore, MemorySlidingWindowLimiter

pytestmark = pytest.mark.unit


def test_nonce_is_single_use_per_scope_within_the_window() -> None:
    store = MemoryNonceStore()
    assert store.consume(scope="dev-a", nonce="n1", now=0, ttl_s=300)
    assert not store.consume(scope="dev-a", nonce="n1", now=299.9, ttl_s=300)
    assert store.consume(scope="dev-b", nonce="n1", now=1, ttl_s=300)
    assert store.consume(scope="dev-a", nonce="n1", now=300.1, ttl_s=300)


def test_expired_nonces_are_swept() -> None:
    store = MemoryNonceStore()
    for i in range(5000):
        store.consume(scope="d", nonce=str(i), now=float(i), ttl_s=10)
    assert len(store) < 2100


def test_sliding_window_counts_and_says_when_to_retry() -> None:
    limiter = MemorySlidingWindowLimiter()
    for t in range(3):
        assert limiter.hit(key="k", limit=3, window_s=60, now=float(t)).allowed
    refused = limiter.hit(key="k", limit=3, window_s=60, now=10)
    assert not refused.allowed
    assert refused.retry_after_s == 50
    assert limiter.hit(key="other", limit=3, window_s=60, now=10).allowed
    assert limiter.hit(key="k", limit=3, window_s=60, now=60.5).allowed
