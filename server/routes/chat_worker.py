"""The per-connection speech worker: runs the session's work orders in order (SPEC §6.5).

Utterance audio stays in memory; only with a `keep` callback (the server setting
`keep_utterance_audio`, SPEC §6.5 rule 10) is an answered utterance's PCM collected and
handed over to be written. With `received` (the test-run setting `received_audio_dir`,
server.received_audio) every utterance's audio is collected as it is submitted (so its wall
times are those of its arrival) and written with its outcome once it is answered, refused,
discarded or cut off by the connection's end. With a `canned` text (the quirk
`child_id_as_uuid`, defect 14) every answer is replaced by it.

Speech engines are blocking; each step runs in a thread so the event loop keeps
answering heartbeats. One worker per connection keeps a device's utterances in order
while different devices decode in parallel.

Decoders are lent by the server's :class:`SpeechCapacity` (SPEC §6.5 rule 11): a slot is
taken at an utterance's first audio, not at `audio_start`, and given back when the
utterance is answered or discarded. While the worker waits for a slot the device's later
frames queue behind it (bounded by the session's 960,000-byte utterance limit), so the
audio is fed once a slot frees; a refused utterance gets `busy` and the rest of it is
dropped. An abort of the utterance being waited for cancels the wait at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable

from server.chat_session import (
    Action,
    ChatSession,
    ProcessText,
    Send,
    UtteranceAborted,
    UtteranceAudio,
    UtteranceEnded,
    UtteranceStarted,
)
from server.received_audio import (
    ANSWERED,
    BUSY,
    CLOSED,
    FAILED,
    UNHEARD,
    ReceivedAudio,
    ReceivedUtterance,
)
from server.speech.interfaces import ChildContext
from server.speech.pipeline import PipelineReply, SpeechPipeline, Utterance
from server.speech_capacity import CapacityBusyError, Slot, SpeechCapacity

log = logging.getLogger("teddy.server.speech")

SendFn = Callable[[list[Send]], Awaitable[None]]
KeepFn = Callable[[str, bytes], None]


class SpeechWorker:
    def __init__(
        self,
        *,
        pipeline: SpeechPipeline,
        session: ChatSession,
        child: ChildContext,
        send: SendFn,
        now: Callable[[], str],
        publish: Callable[[str, dict[str, object]], None],
        capacity: SpeechCapacity,
        device: str,
        hold_s: float,
        keep: KeepFn | None = None,
        canned: str | None = None,
        received: ReceivedAudio | None = None,
    ) -> None:
        self._pipeline = pipeline
        self._session = session
        self._child = child
        self._send = send
        self._now = now
        self._publish = publish
        self._queue: asyncio.Queue[Action] = asyncio.Queue()
        self._utterances: dict[str, Utterance] = {}
        self._keep = keep
        self._canned = canned  # quirk child_id_as_uuid: every answer becomes this text
        self._kept_pcm: dict[str, bytearray] = {}
        # Bytes each utterance's recogniser was fed: the server's own view of what it heard,
        # published with chat.utterance so a scenario can compare it with the device's
        # `audio.tx.end{bytes}` (audio lost between the socket and the decoder shows).
        self._fed: dict[str, int] = {}
        self._capacity = capacity
        self._device = device
        self._hold_s = hold_s  # the utterance wall-clock limit: a holder's latest end
        self._deadlines: dict[str, float] = {}  # started, no decoder yet
        self._slots: dict[str, Slot] = {}
        self._refused: set[str] = set()
        self._waiting: tuple[str, asyncio.Task[Slot]] | None = None
        self._received = received
        self._receiving: dict[str, ReceivedUtterance] = {}
        self._outcomes: dict[str, str] = {}  # set before the utterance's end (busy)

    def submit(self, action: Action) -> None:
        if self._received is not None:
            self._note_received(action, self._received)
        waiting = self._waiting
        aborted = action.audio_session_id if isinstance(action, UtteranceAborted) else None
        if waiting is not None and waiting[0] == aborted:
            waiting[1].cancel()  # discarded while waiting for a decoder: stop waiting now
        self._queue.put_nowait(action)

    def _note_received(self, action: Action, received: ReceivedAudio) -> None:
        """Collect received audio at the moment it arrives (the wall times are its own)."""
        if isinstance(action, UtteranceStarted):
            sid = action.audio_session_id
            self._receiving[sid] = received.open(self._device, sid)
            return
        if not isinstance(action, UtteranceAudio | UtteranceEnded | UtteranceAborted):
            return
        record = self._receiving.get(action.audio_session_id)
        if record is None:
            return
        if isinstance(action, UtteranceAudio):
            record.add(action.pcm, received.clock())
            return
        record.end_wall_s = received.clock()
        if isinstance(action, UtteranceAborted) and action.reason:
            self._outcomes.setdefault(action.audio_session_id, action.reason)  # busy stays

    def _write_received(self, sid: str, outcome: str) -> None:
        """Write the utterance's files now. On the loop on purpose: at most one 960 KB
        utterance, for a test run only, and written before the connection's `ws.close`,
        so a harness that saw that event finds every file (a thread could still be busy)."""
        record = self._receiving.pop(sid, None)
        outcome = self._outcomes.pop(sid, outcome)
        if record is not None:
            record.write(outcome)

    async def run(self) -> None:
        while True:
            action = await self._queue.get()
            try:
                await self._handle(action)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("speech work failed: %r", action)
                await self._send(self._session.processing_failed(timestamp=self._now()))

    async def _handle(self, action: Action) -> None:
        if isinstance(action, UtteranceStarted):
            sid = action.audio_session_id
            self._deadlines[sid] = self._capacity.clock() + self._hold_s
            self._fed[sid] = 0
            if self._keep is not None:
                self._kept_pcm[sid] = bytearray()
        elif isinstance(action, UtteranceAudio):
            current = await self._stream_for(action.audio_session_id)
            if current is not None:
                await asyncio.to_thread(current.feed, action.pcm)
                self._fed[action.audio_session_id] += len(action.pcm)
                if action.audio_session_id in self._kept_pcm:
                    self._kept_pcm[action.audio_session_id] += action.pcm
        elif isinstance(action, UtteranceAborted):
            self._drop(action.audio_session_id)
            self._write_received(action.audio_session_id, action.reason or CLOSED)
        elif isinstance(action, UtteranceEnded):
            await self._end_utterance(action.audio_session_id)
        elif isinstance(action, ProcessText):
            reply = await asyncio.to_thread(self._pipeline.answer_text, action.text, self._child)
            reply = await asyncio.to_thread(self._fallback, reply)
            self._publish("chat.text", {"text": action.text, "reply": reply.reply_text})
            await self._send(
                self._session.reply(
                    audio_session_id=None,
                    transcript=None,
                    text=reply.reply_text,
                    pcm=reply.pcm,
                    timestamp=self._now(),
                )
            )

    async def _end_utterance(self, sid: str) -> None:
        if sid in self._refused:
            self._drop(sid)  # already answered with `busy`
            self._write_received(sid, BUSY)
            return
        try:
            answered = await self._answer_utterance(sid)
        except Exception:
            self._write_received(sid, FAILED)
            raise
        self._write_received(sid, ANSWERED if answered else UNHEARD)

    async def _stream_for(self, sid: str) -> Utterance | None:
        """The utterance's stream, opened on a capacity slot at its first audio."""
        if sid in self._utterances or sid not in self._deadlines:
            return self._utterances.get(sid)
        deadline = self._deadlines.pop(sid)
        task = asyncio.create_task(self._capacity.acquire(self._device, deadline=deadline))
        self._waiting = (sid, task)
        try:
            await asyncio.wait({task})
        except asyncio.CancelledError:  # the connection ended while waiting
            task.cancel()
            with contextlib.suppress(BaseException):
                self._capacity.release(await task)
            raise
        finally:
            self._waiting = None
        if task.cancelled():
            return None  # aborted while waiting; its UtteranceAborted follows
        error = task.exception()
        if isinstance(error, CapacityBusyError):
            self._refused.add(sid)
            self._outcomes[sid] = BUSY  # whatever ends it later (received audio's outcome)
            log.info("utterance %s refused: %s", sid, error)
            frames = self._session.busy(
                retry_after_ms=error.retry_after_ms, reason=str(error), timestamp=self._now()
            )
            await self._send(frames)
            return None
        slot = task.result()
        try:
            utterance = await asyncio.to_thread(self._pipeline.open_utterance)
        except BaseException:
            self._capacity.release(slot)
            raise
        self._slots[sid] = slot
        self._utterances[sid] = utterance
        return utterance

    def _drop(self, sid: str) -> None:
        """Discard an utterance: close its stream, give its slot back (SPEC §6.5 rule 6)."""
        dropped = self._utterances.pop(sid, None)
        self._deadlines.pop(sid, None)
        self._refused.discard(sid)
        self._fed.pop(sid, None)
        self._kept_pcm.pop(sid, None)
        if dropped is not None:
            dropped.close()
        self._release(sid)

    def _release(self, sid: str) -> None:
        slot = self._slots.pop(sid, None)
        if slot is not None:
            self._capacity.release(slot)

    async def _answer_utterance(self, audio_session_id: str) -> bool:
        """Answer the utterance; False when it has no stream (no audio reached one)."""
        self._deadlines.pop(audio_session_id, None)
        utterance = self._utterances.pop(audio_session_id, None)
        if utterance is None:
            return False
        try:
            reply = await asyncio.to_thread(utterance.finish, self._child)
        finally:
            self._release(audio_session_id)  # the decoder is back once finish() returns
        reply = await asyncio.to_thread(self._fallback, reply)
        log.info(
            "utterance %s heard %r answered %r (%s)",
            audio_session_id,
            reply.transcript,
            reply.reply_text,
            reply.timings,
        )
        self._publish(
            "chat.utterance",
            {
                "audio_session_id": audio_session_id,
                "transcript": reply.transcript,
                "reply": reply.reply_text,
                "category": reply.category,
                "bytes": self._fed.pop(audio_session_id, 0),
            },
        )
        await self._send(
            self._session.reply(
                audio_session_id=audio_session_id,
                transcript=reply.transcript,
                text=reply.reply_text,
                pcm=reply.pcm,
                timestamp=self._now(),
            )
        )
        kept = self._kept_pcm.pop(audio_session_id, None)
        if self._keep is not None and kept is not None:
            await asyncio.to_thread(self._keep, audio_session_id, bytes(kept))
        return True

    def _fallback(self, reply: PipelineReply) -> PipelineReply:
        """Quirk child_id_as_uuid (defect 14): the canned text, spoken, instead of the answer."""
        if self._canned is None:
            return reply
        pcm = self._pipeline.tts.synthesize(self._canned)
        return dataclasses.replace(reply, reply_text=self._canned, category="unknown", pcm=pcm)

    def close(self) -> None:
        """Release decoders of utterances the device never finished."""
        for utterance in self._utterances.values():
            utterance.close()
        for slot in self._slots.values():
            self._capacity.release(slot)
        self._utterances.clear()
        self._slots.clear()
        self._deadlines.clear()
        self._refused.clear()
        self._kept_pcm.clear()
        self._fed.clear()
        # Utterances the connection's end cut off (written here: the loop is going away).
        for sid, record in list(self._receiving.items()):
            if record.end_wall_s is None and self._received is not None:
                record.end_wall_s = self._received.clock()
            self._write_received(sid, CLOSED)
        self._outcomes.clear()
