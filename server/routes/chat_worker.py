"""The per-connection speech worker: runs the session's work orders in order (SPEC §6.5).

Speech engines are blocking; each step runs in a thread so the event loop keeps
answering heartbeats. One worker per connection keeps a device's utterances in order
while different devices decode in parallel.
"""

from __future__ import annotations

import asyncio
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
from server.speech.interfaces import ChildContext, RecognitionStream
from server.speech.pipeline import SpeechPipeline

log = logging.getLogger("teddy.server.speech")

SendFn = Callable[[list[Send]], Awaitable[None]]


class SpeechWorker:
    def __init__(
        self,
        *,
        pipeline: SpeechPipeline,
        session: ChatSession,
        child: ChildContext,
        send: SendFn,
        now: Callable[[], str],
    ) -> None:
        self._pipeline = pipeline
        self._session = session
        self._child = child
        self._send = send
        self._now = now
        self._queue: asyncio.Queue[Action] = asyncio.Queue()
        self._streams: dict[str, RecognitionStream] = {}

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
            self._streams[action.audio_session_id] = await asyncio.to_thread(
                self._pipeline.stt.open_stream
            )
        elif isinstance(action, UtteranceAudio):
            stream = self._streams.get(action.audio_session_id)
            if stream is not None:
                await asyncio.to_thread(stream.feed, action.pcm)
        elif isinstance(action, UtteranceAborted):
            stream = self._streams.pop(action.audio_session_id, None)
            if stream is not None:
                await asyncio.to_thread(stream.finish)
        elif isinstance(action, UtteranceEnded):
            await self._answer_utterance(action.audio_session_id)
        elif isinstance(action, ProcessText):
            reply = await asyncio.to_thread(self._pipeline.answer_text, action.text, self._child)
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
        stream = self._streams.pop(audio_session_id, None)
        if stream is None:
            return
        transcript = await asyncio.to_thread(stream.finish)
        reply = await asyncio.to_thread(
            self._pipeline.answer_transcript, transcript.text, self._child
        )
        await self._send(
            self._session.reply(
                audio_session_id=audio_session_id,
                transcript=transcript.text,
                text=reply.reply_text,
                pcm=reply.pcm,
                timestamp=self._now(),
            )
        )

    def close(self) -> None:
        """Release decoders of utterances the device never finished."""
        for stream in self._streams.values():
            try:
                stream.finish()
            except Exception:
                log.debug("stream finish failed on close", exc_info=True)
        self._streams.clear()
