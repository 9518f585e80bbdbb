"""The emulator's HTTP driver: every way a link can break becomes one `HttpFailed` input.

A firmware download that dies with an exception the driver does not catch leaves the core
waiting forever (the device never retries). These drive `HttpAdapter` with transports that
fail the way real links do, without a server.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpcore
import httpx
import pytest

from emulator.core.effects import HttpRequest
from emulator.core.inputs import HttpFailed, HttpStreamData, HttpStreamStart, Input
from emulator.net import HttpAdapter

pytestmark = pytest.mark.unit


class _DiesMidBody(httpx.AsyncByteStream):
    def __init__(self, error: Exception) -> None:
        self._error = error

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b"\xe9" * 4096
        raise self._error


class _Transport(httpx.AsyncBaseTransport):
    def __init__(self, error: Exception) -> None:
        self._error = error

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=_DiesMidBody(self._error))


@pytest.mark.parametrize(
    "error",
    [
        httpcore.RemoteProtocolError("peer closed connection without sending complete message"),
        httpcore.ReadError("connection reset"),
        httpx.ReadTimeout("read timed out"),
        ConnectionResetError("reset by peer"),
    ],
    ids=lambda e: type(e).__name__,
)
async def test_a_stream_that_dies_is_reported_as_failed(error: Exception) -> None:
    seen: list[Input] = []
    done = asyncio.Event()

    def post(event: Input) -> None:
        seen.append(event)
        if isinstance(event, HttpFailed):
            done.set()

    adapter = HttpAdapter(post=post, timeout_s=5.0, transport=_Transport(error))
    adapter.request(HttpRequest(7, "GET", "http://t/web/firmware/a.bin", stream=True))
    await asyncio.wait_for(done.wait(), 5.0)
    await adapter.aclose()
    kinds = [type(e) for e in seen]
    assert kinds == [HttpStreamStart, HttpStreamData, HttpFailed]
    failed = seen[-1]
    assert isinstance(failed, HttpFailed) and failed.req_id == 7 and failed.reason
