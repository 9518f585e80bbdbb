"""Fair, bounded speech capacity and utterance time limits (SPEC §6.5 rule 11, §6.6).

Unit tests drive :class:`SpeechCapacity` with a fake clock; the socket tests run a real
server whose scripted engine has a decoder pool like pocketsphinx (``max_streams``,
blocking on a full pool), with short configured limits, and wait on frames with deadlines.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import re
import threading
from collections.abc import AsyncIterator, Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from websockets.legacy.client import WebSocketClientProtocol

from protocol.errors import WS_ERROR_CODES
from server.embedded import EmbeddedServer
from server.settings import ServerSettings
from server.speech.errors import SpeechBusyError
from server.speech.espeak_tts import EspeakTextToSpeech
from server.speech.pipeline import SpeechPipeline
from server.speech.responder import RuleBasedResponder
from server.speech.scripted import ScriptedSpeechToText, ScriptedStream
from server.speech_capacity import CapacityBusyError, SpeechCapacity
from server.state import build_state
from tests.server.ws_client import chat_url, claim, connect, recv_json, send_json

CHUNK = base64.b64encode(b"\x01\x00" * 1600).decode()  # 0.1 s of audio


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


# -- the queue --------------------------------------------------------------------------


def _capacity(slots: int = 1, waiters: int = 4, wait_s: float = 5.0) -> SpeechCapacity:
    return SpeechCapacity(slots=slots, max_waiters=waiters, wait_s=wait_s, clock=Clock())


@pytest.mark.unit
async def test_waiters_are_served_first_come_first_served() -> None:
    cap = _capacity()
    first = await cap.acquire("a", deadline=130.0)
    b = asyncio.create_task(cap.acquire("b", deadline=131.0))
    c = asyncio.create_task(cap.acquire("c", deadline=132.0))
    await _until(lambda: cap.waiting == 2)
    cap.release(first)
    slot_b = await b
    assert slot_b.device == "b" and not c.done()
    cap.release(slot_b)
    assert (await c).device == "c"


@pytest.mark.unit
async def test_one_waiting_entry_per_device() -> None:
    cap = _capacity()
    held = await cap.acquire("a", deadline=130.0)
    older = asyncio.create_task(cap.acquire("b", deadline=131.0))
    await _until(lambda: cap.waiting == 1)
    newer = asyncio.create_task(cap.acquire("b", deadline=132.0))
    with pytest.raises(CapacityBusyError, match="replaced"):
        await older
    await _until(lambda: cap.waiting == 1)
    cap.release(held)
    assert (await newer).deadline == 132.0


@pytest.mark.unit
async def test_full_queue_is_busy_with_the_earliest_holder_deadline() -> None:
    cap = _capacity(slots=2, waiters=1)
    await cap.acquire("a", deadline=130.0)
    await cap.acquire("b", deadline=112.5)
    waiter = asyncio.create_task(cap.acquire("c", deadline=140.0))
    await _until(lambda: cap.waiting == 1)
    with pytest.raises(CapacityBusyError) as refused:
        await cap.acquire("d", deadline=140.0)
    assert refused.value.retry_after_ms == 12_500  # holder b ends at 112.5, now is 100
    waiter.cancel()


@pytest.mark.unit
async def test_a_waiter_not_served_in_time_gets_busy() -> None:
    cap = _capacity(wait_s=0.05)
    await cap.acquire("a", deadline=101.0)
    with pytest.raises(CapacityBusyError, match=r"within 0\.05 s") as refused:
        await cap.acquire("b", deadline=140.0)
    assert refused.value.retry_after_ms == 1000
    assert cap.waiting == 0


@pytest.mark.unit
async def test_an_abandoned_wait_holds_nothing() -> None:
    cap = _capacity()
    held = await cap.acquire("a", deadline=130.0)
    waiter = asyncio.create_task(cap.acquire("b", deadline=131.0))
    await _until(lambda: cap.waiting == 1)
    waiter.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await waiter
    cap.release(held)
    assert cap.held == 0 and cap.waiting == 0
    assert (await cap.acquire("c", deadline=140.0)).device == "c"


@pytest.mark.unit
async def test_a_slot_lent_to_a_waiter_that_gave_up_is_given_back() -> None:
    cap = _capacity()
    held = await cap.acquire("a", deadline=130.0)
    waiter = asyncio.create_task(cap.acquire("b", deadline=131.0))
    await _until(lambda: cap.waiting == 1)
    waiter.cancel()  # b is aborted; before its task runs again ...
    cap.release(held)  # ... the freed slot is lent to it
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert cap.held == 0 and cap.waiting == 0


@pytest.mark.unit
def test_spec_error_table_is_the_code_vocabulary() -> None:
    spec = resources.files("protocol").joinpath("SPEC.md").read_text(encoding="utf-8")
    table = spec.split("**Error codes.**", 1)[1].split("### 6.4", 1)[0]
    codes = set(re.findall(r"^\| `([a-z_]+)` \|", table, re.M)) - {"error_code"}  # header
    assert codes == WS_ERROR_CODES


@pytest.mark.unit
def test_spec_limits_table_gives_the_settings_defaults() -> None:
    spec = resources.files("protocol").joinpath("SPEC.md").read_text(encoding="utf-8")
    table = spec.split("### 6.6 Limits", 1)[1].split("**Compatibility note.**", 1)[0]
    documented = {
        name: float(value.replace(",", ""))
        for value, unit, name in re.findall(r"\| ([0-9,]+) (s|MB)? ?\(`([a-z_]+)`\)", table)
    }
    defaults = ServerSettings(data_dir=Path("unused"))
    names = ("utterance_max_s", "utterance_silence_s", "speech_wait_s", "speech_queue")
    assert {n: documented[n] for n in (*names, "speech_memory_mb")} == {
        n: float(getattr(defaults, n)) for n in (*names, "speech_memory_mb")
    }


# -- over a socket ------------------------------------------------------------------------


class PooledScripted(ScriptedSpeechToText):
    """The scripted engine with a decoder pool that blocks when full, as pocketsphinx's."""

    def __init__(self, max_streams: int) -> None:
        super().__init__(default="hello teddy")
        self.max_streams = max_streams
        self._free = threading.BoundedSemaphore(max_streams)

    def open_stream(self) -> ScriptedStream:
        if not self._free.acquire(timeout=3.0):
            raise SpeechBusyError(f"all {self.max_streams} decoders busy")
        return _PooledStream(self)

    def give_back(self) -> None:
        self._free.release()


class _PooledStream(ScriptedStream):
    def __init__(self, engine: PooledScripted) -> None:
        super().__init__(engine)
        self._pool: PooledScripted | None = engine

    def _back(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.give_back()

    def finish(self) -> Any:
        try:
            return super().finish()
        finally:
            self._back()

    def close(self) -> None:
        super().close()
        self._back()


class Devices:
    """Devices connected to one server; all closed before it stops (a quick shutdown)."""

    def __init__(self, server: EmbeddedServer) -> None:
        self.server = server
        self._open: list[WebSocketClientProtocol] = []

    async def __call__(self, n: int) -> WebSocketClientProtocol:
        who = claim(self.server.base_url, f"Teddy-ESP32-{n:03d}", f"child-{n:03d}")
        ws = await connect(chat_url(self.server.ws_url, who), who.access_token)
        self._open.append(ws)
        return ws

    async def close(self) -> None:
        await asyncio.gather(*(ws.close() for ws in self._open), return_exceptions=True)


@contextlib.asynccontextmanager
async def _server(tmp_path: Path, slots: int, **limits: Any) -> AsyncIterator[Devices]:
    settings = ServerSettings(data_dir=tmp_path / "data", **limits)
    pipeline = SpeechPipeline(PooledScripted(slots), RuleBasedResponder(), EspeakTextToSpeech())
    with EmbeddedServer(settings, state=build_state(settings, pipeline=pipeline)) as server:
        devices = Devices(server)
        try:
            yield devices
        finally:
            await devices.close()


@pytest.fixture
async def held(tmp_path: Path) -> AsyncIterator[Devices]:
    limits = {"utterance_max_s": 20.0, "utterance_silence_s": 20.0, "speech_wait_s": 1.0}
    async with _server(tmp_path, 2, **limits) as devices:
        yield devices


async def _start(ws: WebSocketClientProtocol, sid: str) -> None:
    await send_json(ws, {"type": "audio_start", "audio_session_id": sid})
    ack = await recv_json(ws)
    assert ack["data"]["type"] == "audio_start_ack", ack


async def _chunk(ws: WebSocketClientProtocol, sid: str, n: int, final: bool = False) -> None:
    message = {"type": "audio_chunk", "audio_session_id": sid, "chunk_id": n, "audio_data": CHUNK}
    await send_json(ws, {**message, "is_final": final})


async def _answer(ws: WebSocketClientProtocol) -> dict[str, Any]:
    """The next text_response (its audio frames read too) or error; heartbeats skipped."""
    while True:
        message = await recv_json(ws)
        if message["type"] == "error":
            return message
        if message["type"] == "text_response":
            # Read the reply's audio: a client queue full of unread frames stalls its close.
            while not (frame := await recv_json(ws)).get("is_final"):
                assert frame["type"] in ("audio_response", "system"), frame
            return message


@contextlib.asynccontextmanager
async def _heartbeats(sockets: list[WebSocketClientProtocol]) -> AsyncIterator[None]:
    async def beat() -> None:
        while True:
            for ws in sockets:
                await send_json(ws, {"type": "heartbeat"})
            await asyncio.sleep(0.2)

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()


@pytest.mark.emu
async def test_devices_holding_silent_utterances_starve_nobody(held: Devices) -> None:
    holders = [await held(n) for n in range(2)]  # as many as the decoder slots
    for n, ws in enumerate(holders):
        await _start(ws, f"held-{n}")
    talker = await held(9)
    async with _heartbeats(holders):
        await _start(talker, "talk")
        await _chunk(talker, "talk", 0, final=True)
        reply = await asyncio.wait_for(_answer(talker), 2.0)
    assert reply["type"] == "text_response", reply
    assert reply["transcript"] == "hello teddy"


@pytest.mark.emu
async def test_eleventh_device_gets_busy_with_a_hint_in_time(tmp_path: Path) -> None:
    limits = {"utterance_max_s": 20.0, "utterance_silence_s": 20.0, "speech_wait_s": 1.0}
    async with _server(tmp_path, 4, **limits) as device:
        holders = [await device(n) for n in range(10)]
        for n, ws in enumerate(holders):
            await _start(ws, f"held-{n}")
            await _chunk(ws, f"held-{n}", 0)
        # The four slot holders keep theirs; the other six were refused after the wait.
        refused = [await asyncio.wait_for(_answer(ws), 3.0) for ws in holders[4:]]
        assert {m["error_code"] for m in refused} == {"busy"}
        eleventh = await device(10)
        await _start(eleventh, "late")
        await _chunk(eleventh, "late", 0)
        # SPEC §6.6: a reply or `busy` within speech_wait_s (1 s here) of the first audio.
        answer = await asyncio.wait_for(_answer(eleventh), 1.0 + 0.5)
        assert answer["type"] == "error" and answer["error_code"] == "busy", answer
        assert 15_000 < answer["retry_after_ms"] <= 20_000  # the holders end by 20 s


@pytest.mark.emu
async def test_waiting_audio_is_kept_until_a_slot_frees(held: Devices) -> None:
    first, second = await held(1), await held(2)
    await _start(first, "a")
    await _chunk(first, "a", 0)
    other = await held(3)
    await _start(other, "b")
    await _chunk(other, "b", 0)
    await _start(second, "c")
    await _chunk(second, "c", 0)  # waits: both slots are held
    await _chunk(second, "c", 1, final=True)
    await _chunk(first, "a", 1, final=True)  # frees a slot within the wait
    assert (await _answer(first))["type"] == "text_response"
    reply = await asyncio.wait_for(_answer(second), 2.0)
    assert reply["type"] == "text_response", reply


@pytest.mark.emu
async def test_silence_limit_discards_the_utterance(tmp_path: Path) -> None:
    async with _server(tmp_path, 1, utterance_silence_s=0.4, speech_wait_s=1.0) as device:
        quiet = await device(1)
        await _start(quiet, "q")
        await _chunk(quiet, "q", 0)  # holds the only slot, then says nothing
        error = await asyncio.wait_for(_answer(quiet), 2.0)
        assert error["error_code"] == "utterance_timeout"
        assert "silence" in error["error_message"]
        talker = await device(2)  # the slot was given back at once
        await _start(talker, "t")
        await _chunk(talker, "t", 0, final=True)
        assert (await asyncio.wait_for(_answer(talker), 2.0))["type"] == "text_response"


@pytest.mark.emu
async def test_wall_clock_limit_discards_a_long_utterance(tmp_path: Path) -> None:
    async with _server(tmp_path, 1, utterance_max_s=0.6, utterance_silence_s=5.0) as device:
        ws = await device(1)
        await _start(ws, "long")

        async def talk() -> None:
            for n in range(100):
                await _chunk(ws, "long", n)
                await asyncio.sleep(0.1)  # pacing of a talking device, not a wait

        talking = asyncio.create_task(talk())
        try:
            error = await asyncio.wait_for(_answer(ws), 2.0)
        finally:
            talking.cancel()
        assert error["error_code"] == "utterance_timeout"
        assert "wall-clock" in error["error_message"]


async def _until(condition: Callable[[], bool]) -> None:
    """Let the other tasks run until ``condition`` holds (no time passes: sleep(0) yields)."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never held")
