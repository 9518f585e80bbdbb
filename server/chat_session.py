"""The chat session core: WebSocket text in, frames and work orders out (SPEC §6.3-§6.5).

Sans-I/O in the style of ``websockets``: the session never touches a socket, a thread or
a clock. The asyncio adapter (``server.routes.chat``) feeds it each received frame with
the current timestamp and carries out what it returns: frames to send, and utterances or
typed texts to run through the speech pipeline. The same core is driven by unit tests
and fuzzers without a server. Two legacy-server quirks (SPEC Appendix B) live here, where
the original behaved so: `audio_end_after_final_error` and `reply_in_one_frame`; so do the
two armed chat faults of SPEC §11.4 (`arm`): `cut_reply` cuts the next reply's audio frames
and `drop_first_chunk` keeps the next utterance's first audio from the recogniser.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from protocol.audio import build_audio_response_frames
from protocol.constants import MAX_UTTERANCE_BYTES, MIN_UTTERANCE_BYTES, UPLINK_MAX_FRAME_BYTES
from protocol.errors import MessageError
from protocol.messages import (
    AudioChunk,
    AudioEnd,
    AudioResponse,
    AudioStart,
    ErrorMessage,
    Heartbeat,
    SystemMessage,
    TextMessage,
    TextResponse,
    encode_message,
    parse_device_message,
    parse_server_message,
)
from protocol.server_faults import CUT_REPLY, DROP_FIRST_CHUNK
from protocol.server_quirks import (
    AUDIO_END_AFTER_FINAL_ERROR,
    REPLY_IN_ONE_FRAME,
    UNKNOWN_TYPE_PROCESSING_ERROR,
    Quirks,
)


@dataclass(frozen=True)
class Send:
    """Send this text frame to the device (``error_code`` set when it is an ``error``)."""

    text: str
    error_code: str | None = None


@dataclass(frozen=True)
class UtteranceStarted:
    """Open a speech-to-text stream: decoding runs as chunks arrive (SPEC §6.5)."""

    audio_session_id: str


@dataclass(frozen=True)
class UtteranceAudio:
    """Feed these PCM bytes to the open stream."""

    audio_session_id: str
    pcm: bytes


@dataclass(frozen=True)
class UtteranceEnded:
    """Finish the stream, answer it (responder -> text-to-speech) and send the reply."""

    audio_session_id: str
    total_bytes: int


@dataclass(frozen=True)
class UtteranceAborted:
    """Drop the stream without answering (superseded, too long, too short or empty)."""

    audio_session_id: str
    # Why: `superseded` or the error code sent (`audio_too_long`, `no_audio_data`, ...).
    reason: str = field(default="", compare=False)


@dataclass(frozen=True)
class ProcessText:
    """Answer a typed ``text_message`` (SPEC §6.3)."""

    text: str


Action = Send | UtteranceStarted | UtteranceAudio | UtteranceEnded | UtteranceAborted | ProcessText


# Bounds that keep a text_response frame under DOWNLINK_MAX_FRAME_BYTES (SPEC §7.3):
# (1000 + 1200) characters at the UTF-8 worst case of 3 bytes each is 6600 bytes,
# which leaves room for the envelope.
MAX_REPLY_CHARS = 1000
MAX_TRANSCRIPT_CHARS = 1200


def system_frame(message: SystemMessage, *, timestamp: str) -> str:
    return encode_message(message, timestamp=timestamp)


def error_frame(
    code: str, message: str, *, timestamp: str, retry_after_ms: int | None = None
) -> str:
    return encode_message(ErrorMessage(code, message, retry_after_ms), timestamp=timestamp)


def error_send(
    code: str, message: str, *, timestamp: str, retry_after_ms: int | None = None
) -> Send:
    frame = error_frame(code, message, timestamp=timestamp, retry_after_ms=retry_after_ms)
    return Send(frame, error_code=code)


@dataclass(frozen=True)
class UtteranceLimits:
    """Time limits of an open utterance (SPEC §6.6), in seconds of the caller's clock."""

    max_s: float = 35.0  # wall-clock, from audio_start
    silence_s: float = 5.0  # longest gap between audio_start/chunks


@dataclass
class _Utterance:
    audio_session_id: str
    opened_at: float = 0.0
    last_audio_at: float = 0.0
    size: int = 0
    chunks: int = 0
    audio_chunks: int = 0  # chunks that carried audio (drop_first_chunk counts these)


# Told when an armed fault fires: (kind, audio_session_id) for the `fault.injected` event.
FaultFired = Callable[[str, str], None]


class ChatSession:
    """State of one accepted WebSocket connection."""

    def __init__(
        self,
        *,
        session_id: str,
        child_name: str,
        new_id: Callable[[], str],
        quirks: Quirks | None = None,
        limits: UtteranceLimits | None = None,
        fault_fired: FaultFired | None = None,
    ) -> None:
        self.session_id = session_id
        self.child_name = child_name
        self._new_id = new_id
        self._quirks = quirks or Quirks()
        self.limits = limits or UtteranceLimits()
        self._open: _Utterance | None = None
        # Ids that ended with is_final: a following audio_end for them is not an error
        # (the original server answered it with no_audio_data, defect 12).
        self._ended: deque[str] = deque(maxlen=16)
        self._now = 0.0  # the `now` of the frame being handled
        # Armed chat faults (SPEC §11.4): how many replies to cut, utterances to rob.
        self._armed = {CUT_REPLY.name: 0, DROP_FIRST_CHUNK.name: 0}
        self._fault_fired = fault_fired or (lambda kind, sid: None)

    def arm(self, kind: str) -> None:
        """Arm `cut_reply` (the next reply) or `drop_first_chunk` (the next utterance's
        first chunk with audio); each call arms one more."""
        if kind not in self._armed:
            raise ValueError(f"{kind!r} is not an armed chat fault; {sorted(self._armed)}")
        self._armed[kind] += 1

    def _take(self, kind: str, audio_session_id: str) -> bool:
        """Whether an armed `kind` fires now (it is used up and reported)."""
        if self._armed[kind] == 0:
            return False
        self._armed[kind] -= 1
        self._fault_fired(kind, audio_session_id)
        return True

    def connected(self, *, timestamp: str) -> list[Action]:
        hello = SystemMessage.connection_established(
            session_id=self.session_id,
            message=f"Hello {self.child_name}! I'm ready to chat!",
            server_time=timestamp,
        )
        return [Send(system_frame(hello, timestamp=timestamp))]

    def receive_bytes(self, data: bytes, *, timestamp: str) -> list[Action]:
        del data
        message = "binary frames are not supported; send JSON text frames (SPEC §6.3)"
        return [error_send("binary_not_supported", message, timestamp=timestamp)]

    def receive_text(self, text: str, *, timestamp: str, now: float = 0.0) -> list[Action]:
        """Handle one text frame; ``now`` (monotonic seconds) times the open utterance."""
        self._now = now
        try:
            message = parse_device_message(text, max_bytes=UPLINK_MAX_FRAME_BYTES)
        except MessageError as exc:
            code = exc.code
            if code == "unknown_message_type" and UNKNOWN_TYPE_PROCESSING_ERROR in self._quirks:
                code = "processing_error"  # defect 9: the original's catch-all answer
            return [error_send(code, str(exc), timestamp=timestamp)]
        if isinstance(message, AudioStart):
            return self._audio_start(message, timestamp)
        if isinstance(message, AudioChunk):
            return self._audio_chunk(message, timestamp)
        if isinstance(message, AudioEnd):
            return self._audio_end(message.audio_session_id, timestamp)
        if isinstance(message, Heartbeat):
            return [Send(system_frame(SystemMessage.heartbeat_response(), timestamp=timestamp))]
        if isinstance(message, TextMessage):
            if not message.text.strip():
                return [error_send("empty_text", "text is empty", timestamp=timestamp)]
            return [ProcessText(message.text)]
        return [error_send("unknown_message_type", "unhandled message", timestamp=timestamp)]

    def _audio_start(self, message: AudioStart, timestamp: str) -> list[Action]:
        # A new audio_start supersedes an unfinished utterance (button pressed again).
        actions: list[Action] = []
        if self._open is not None:
            actions.append(UtteranceAborted(self._open.audio_session_id, "superseded"))
        session_id = message.audio_session_id or self._new_id()
        self._open = _Utterance(session_id, opened_at=self._now, last_audio_at=self._now)
        ack = SystemMessage.audio_start_ack(audio_session_id=session_id)
        actions.append(UtteranceStarted(session_id))
        actions.append(Send(system_frame(ack, timestamp=timestamp)))
        return actions

    def _audio_chunk(self, message: AudioChunk, timestamp: str) -> list[Action]:
        utterance = self._open
        wanted = message.audio_session_id
        if utterance is None or (wanted is not None and wanted != utterance.audio_session_id):
            reason = f"no open utterance {wanted!r}; send audio_start first (SPEC §6.5)"
            return [error_send("unknown_audio_session", reason, timestamp=timestamp)]
        if utterance.size + len(message.pcm) > MAX_UTTERANCE_BYTES:
            self._open = None
            reason = f"utterance longer than {MAX_UTTERANCE_BYTES} bytes (30 s); discarded"
            return [
                UtteranceAborted(utterance.audio_session_id, "audio_too_long"),
                error_send("audio_too_long", reason, timestamp=timestamp),
            ]
        utterance.size += len(message.pcm)
        utterance.chunks += 1
        utterance.last_audio_at = self._now
        actions: list[Action] = []
        if message.pcm:
            utterance.audio_chunks += 1
            # Fault drop_first_chunk: counted as received (the §6.6 limits see it) but never
            # fed, like the original's fallback buffer (defect 12).
            first = utterance.audio_chunks == 1
            if not (first and self._take(DROP_FIRST_CHUNK.name, utterance.audio_session_id)):
                actions.append(UtteranceAudio(utterance.audio_session_id, message.pcm))
        if message.is_final:
            actions.extend(self._audio_end(utterance.audio_session_id, timestamp))
        return actions

    def _audio_end(self, audio_session_id: str, timestamp: str) -> list[Action]:
        utterance = self._open
        if utterance is None or audio_session_id != utterance.audio_session_id:
            if audio_session_id in self._ended:
                if AUDIO_END_AFTER_FINAL_ERROR in self._quirks:  # defect 12: ended twice
                    message = "utterance had no audio"
                    return [error_send("no_audio_data", message, timestamp=timestamp)]
                return []
            reason = f"no open utterance {audio_session_id!r} to end"
            return [error_send("unknown_audio_session", reason, timestamp=timestamp)]
        self._open = None
        self._ended.append(utterance.audio_session_id)
        size, sid = utterance.size, utterance.audio_session_id
        if size == 0:
            message = "utterance had no audio"
            return [
                UtteranceAborted(sid, "no_audio_data"),
                error_send("no_audio_data", message, timestamp=timestamp),
            ]
        if size < MIN_UTTERANCE_BYTES:
            reason = f"utterance of {size} bytes is under {MIN_UTTERANCE_BYTES} (0.1 s)"
            return [
                UtteranceAborted(sid, "audio_too_short"),
                error_send("audio_too_short", reason, timestamp=timestamp),
            ]
        return [UtteranceEnded(sid, size)]

    def next_deadline(self) -> float | None:
        """When the open utterance reaches a time limit (SPEC §6.6), or None."""
        open_ = self._open
        if open_ is None:
            return None
        return min(open_.opened_at + self.limits.max_s, open_.last_audio_at + self.limits.silence_s)

    def expire(self, *, now: float, timestamp: str) -> list[Action]:
        """Discard the open utterance when it is past a time limit (SPEC §6.6)."""
        open_ = self._open
        if open_ is None:
            return []
        if now >= open_.opened_at + self.limits.max_s:
            reason = f"utterance open longer than {self.limits.max_s:g} s (wall-clock limit)"
        elif now >= open_.last_audio_at + self.limits.silence_s:
            reason = f"no audio_chunk for {self.limits.silence_s:g} s (silence limit)"
        else:
            return []
        self._open = None
        return [
            UtteranceAborted(open_.audio_session_id, "utterance_timeout"),
            error_send("utterance_timeout", f"{reason}; discarded", timestamp=timestamp),
        ]

    def busy(self, *, retry_after_ms: int, reason: str, timestamp: str) -> list[Send]:
        """No decoder for this utterance (SPEC §6.5 rule 11): try again later."""
        return [error_send("busy", reason, timestamp=timestamp, retry_after_ms=retry_after_ms)]

    def reply(
        self,
        *,
        audio_session_id: str | None,
        transcript: str | None,
        text: str,
        pcm: bytes,
        timestamp: str,
    ) -> list[Send]:
        """The frames of one answer: text_response, then audio_response frames (SPEC §6.5)."""
        # Bounded so the frame stays under 8 KiB (SPEC §7.3); the reply is short anyway.
        text = text[:MAX_REPLY_CHARS]
        heard = transcript[:MAX_TRANSCRIPT_CHARS] if transcript is not None else None
        response = TextResponse(text, heard, audio_session_id)
        frames = [Send(encode_message(response, timestamp=timestamp))]
        reply_id = audio_session_id or self._new_id()
        cut = self._take(CUT_REPLY.name, reply_id)
        if REPLY_IN_ONE_FRAME in self._quirks:  # defect 11: no §7.3 framing at all
            # Cut, the one frame carries the first half of the audio (whole samples).
            whole_pcm = pcm[: len(pcm) // 4 * 2] if cut else pcm
            whole = AudioResponse(reply_id, 0, whole_pcm, is_final=True, text=text)
            return [*frames, Send(encode_message(whole, timestamp=timestamp))]
        audio = build_audio_response_frames(
            audio_session_id=reply_id, pcm=pcm, text=text, timestamp=timestamp
        )
        if cut:
            audio = cut_frames(audio)
        return [*frames, *(Send(frame) for frame in audio)]

    def processing_failed(self, *, timestamp: str) -> list[Send]:
        message = "could not answer this utterance; try again"
        return [error_send("processing_error", message, timestamp=timestamp)]


def cut_frames(frames: list[str]) -> list[str]:
    """Fault cut_reply: the first half of a reply's `audio_response` frames (at least one),
    the last of them re-encoded with `is_final` and otherwise as it was (seq, text, PCM)."""
    kept = frames[: max(1, len(frames) // 2)]
    last = parse_server_message(kept[-1])
    assert isinstance(last, AudioResponse)  # build_audio_response_frames made it
    timestamp = json.loads(kept[-1])["timestamp"]
    final = AudioResponse(last.audio_session_id, last.seq, last.pcm, is_final=True, text=last.text)
    return [*kept[:-1], encode_message(final, timestamp=timestamp)]
