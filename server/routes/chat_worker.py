"""The per-connection speech worker: runs the session's work orders in order (SPEC §6.5).

Utterance audio stays in memory; only with a `keep` callback (the server setting
`keep_utterance_audio`, SPEC §6.5 rule 10) is an answered utterance's PCM collected and
handed over to be written. With a `canned` text (the quirk `child_id_as_uuid`, defect 14)
every answer is replaced by it.

Speech engines are blocking; each step runs in a thread so the event loop keeps
answering heartbeats. One worker per connection keeps a device's utterances in order
while different devices decode in parallel.
"""

from __future__ import annotations

import asyncio
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
from server.speech.interfaces import ChildContext
from server.speech.pipeline import PipelineReply, SpeechPipeline, Utterance

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
        keep: KeepFn | None = None,
        canned: str | None = None,
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

    def submit(self, action: Action) -> None:
        self._queue.put_nowait(action)

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
            utterance = await asyncio.to_thread(self._pipeline.open_utterance)
            self._utterances[action.audio_session_id] = utterance
            self._fed[action.audio_session_id] = 0
            if self._keep is not None:
                self._kept_pcm[action.audio_session_id] = bytearray()
        elif isinstance(action, UtteranceAudio):
            current = self._utterances.get(action.audio_session_id)
            if current is not None:
                await asyncio.to_thread(current.feed, action.pcm)
                self._fed[action.audio_session_id] += len(action.pcm)
                if action.audio_session_id in self._kept_pcm:
                    self._kept_pcm[action.audio_session_id] += action.pcm
        elif isinstance(action, UtteranceAborted):
            dropped = self._utterances.pop(action.audio_session_id, None)
            self._fed.pop(action.audio_session_id, None)
            self._kept_pcm.pop(action.audio_session_id, None)
            if dropped is not None:
                dropped.close()
        elif isinstance(action, UtteranceEnded):
            await self._answer_utterance(action.audio_session_id)
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

    async def _answer_utterance(self, audio_session_id: str) -> None:
        utterance = self._utterances.pop(audio_session_id, None)
        if utterance is None:
            return
        reply = await asyncio.to_thread(utterance.finish, self._child)
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
        self._utterances.clear()
        self._kept_pcm.clear()
        self._fed.clear()
