"""Audio framing: uplink chunking, utterance assembly and downlink frames.

Owns SPEC §7 (PCM s16le 16 kHz mono; 4096-byte uplink chunks; downlink frames
strictly under 8192 encoded bytes) and the byte limits of SPEC §6.6. Everything
is sans-I/O: callers feed bytes and get bytes or encoded frames back.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from protocol import constants as c
from protocol._pcm import b64decode_pcm, b64encode_pcm
from protocol.errors import MessageError, WsErrorCode
from protocol.messages import AudioResponse, encode_message

__all__ = [
    "AudioResponseAssembler",
    "UtteranceAssembler",
    "b64decode_pcm",
    "b64encode_pcm",
    "build_audio_response_frames",
    "chunk_pcm",
    "reassemble_audio_response",
]

_B64_QUANTUM: Final = 6  # 6 PCM bytes = 4 base64 chars and whole s16 samples


def chunk_pcm(pcm: bytes, *, chunk_bytes: int = c.UPLINK_CHUNK_BYTES) -> list[bytes]:
    """Split PCM into chunks of `chunk_bytes` (last may be shorter; empty -> [])."""
    if chunk_bytes <= 0 or chunk_bytes % 2:
        raise MessageError("invalid_audio_data", f"chunk_bytes {chunk_bytes} must be even and > 0")
    return [pcm[i : i + chunk_bytes] for i in range(0, len(pcm), chunk_bytes)]


class UtteranceAssembler:
    """Collects one utterance's uplink chunks (SPEC §6.5, §6.6).

    `add` reports per-chunk problems as an error code (the server answers with an
    `error` message and keeps the connection); `finish` raises MessageError when
    the utterance cannot be processed. Both leave the assembler ready for reuse.
    """

    def __init__(
        self, *, min_bytes: int = c.MIN_UTTERANCE_BYTES, max_bytes: int = c.MAX_UTTERANCE_BYTES
    ) -> None:
        self.min_bytes = min_bytes
        self.max_bytes = max_bytes
        self.session_id: str | None = None
        self.chunk_count = 0
        self._parts: list[bytes] = []
        self._size = 0

    @property
    def active(self) -> bool:
        """True between `start` and `finish`."""
        return self.session_id is not None

    @property
    def byte_count(self) -> int:
        """PCM bytes accepted so far."""
        return self._size

    def start(self, session_id: str) -> None:
        """Open a new utterance, discarding any unfinished one."""
        self.session_id = session_id
        self._reset()

    def _reset(self) -> None:
        self.chunk_count = 0
        self._parts = []
        self._size = 0

    def add(self, chunk: bytes, *, session_id: str | None = None) -> WsErrorCode | None:
        """Append one chunk; returns an error code instead of raising.

        A chunk joins when its `session_id` equals the open one or is None (SPEC
        §6.5 rule 2). A chunk that would take the utterance over `max_bytes`
        discards the whole utterance at once (`audio_too_long`); later chunks
        then get `unknown_audio_session` (rule 4).
        """
        if self.session_id is None or session_id not in (None, self.session_id):
            return "unknown_audio_session"
        if len(chunk) % 2:
            return "invalid_audio_data"
        if self._size + len(chunk) > self.max_bytes:
            self.session_id = None
            self._reset()
            return "audio_too_long"
        self._parts.append(chunk)
        self._size += len(chunk)
        self.chunk_count += 1
        return None

    def finish(self) -> bytes:
        """Close the utterance and return its PCM; raises MessageError when unusable."""
        session_id, size = self.session_id, self._size
        pcm = b"".join(self._parts)
        self.session_id = None
        self._parts = []  # counts stay readable until the next start()
        if session_id is None:
            raise MessageError("unknown_audio_session", "no utterance is open")
        if size == 0:
            raise MessageError("no_audio_data", f"utterance {session_id} has no audio")
        if size < self.min_bytes:
            raise MessageError(
                "audio_too_short", f"utterance is {size} bytes, min {self.min_bytes}"
            )
        return pcm


def _frame(session_id: str, seq: int, pcm: bytes, *, final: bool, text: str | None, ts: str) -> str:
    msg = AudioResponse(session_id, seq, pcm, final, text)
    return encode_message(msg, timestamp=ts)


def _fit_first(
    session_id: str, pcm: bytes, text: str | None, ts: str, limit: int
) -> tuple[str, int]:
    """Largest first frame (PCM on 6-byte steps) whose encoding is under `limit`."""
    take = min(len(pcm), c.DOWNLINK_PCM_BYTES)
    final = take == len(pcm)
    frame = _frame(session_id, 0, pcm[:take], final=final, text=text, ts=ts)
    while len(frame.encode()) >= limit:
        if take == 0:
            # SPEC §7.3: a reply that cannot be framed is a processing failure.
            raise MessageError("processing_error", "audio_response text does not fit in a frame")
        excess = len(frame.encode()) - limit + 1
        # 4 base64 chars carry 3 bytes; step in 6s so the cut stays on a sample.
        step = max(_B64_QUANTUM, -(-excess * 3 // 4 // _B64_QUANTUM) * _B64_QUANTUM)
        take = max(0, take - step)  # stays even: starts even, moves in steps of 6
        final = take == len(pcm)
        frame = _frame(session_id, 0, pcm[:take], final=final, text=text, ts=ts)
    return frame, take


def build_audio_response_frames(
    *, audio_session_id: str, pcm: bytes, text: str | None, timestamp: str
) -> list[str]:
    """Encode a spoken reply as `audio_response` frames (SPEC §7.3).

    Every frame is strictly under DOWNLINK_MAX_FRAME_BYTES encoded bytes and
    carries at most DOWNLINK_PCM_BYTES of PCM cut on sample boundaries; `text` is
    only on seq 0, whose PCM shrinks when the text makes it too big; the last
    frame has `is_final` true. Empty PCM gives one frame with empty `audio_data`.
    """
    if len(pcm) % 2:
        raise MessageError(
            "invalid_audio_data", f"reply PCM of {len(pcm)} bytes is not whole samples"
        )
    limit = c.DOWNLINK_MAX_FRAME_BYTES
    first, offset = _fit_first(audio_session_id, pcm, text, timestamp, limit)
    frames = [first]
    while offset < len(pcm):
        part = pcm[offset : offset + c.DOWNLINK_PCM_BYTES]
        offset += len(part)
        seq = len(frames)
        frames.append(
            _frame(audio_session_id, seq, part, final=offset == len(pcm), text=None, ts=timestamp)
        )
    return frames


class AudioResponseAssembler:
    """Device-side collector of `audio_response` frames (SPEC §7.3).

    `feed` returns True once the final frame arrived; it raises MessageError
    (invalid_message) for a frame out of order, of another session, or after
    the final one.
    """

    def __init__(self) -> None:
        self.audio_session_id: str | None = None
        self.text: str | None = None
        self.frame_count = 0
        self.done = False
        self._parts: list[bytes] = []

    def feed(self, frame: AudioResponse) -> bool:
        """Add the next frame; True when the reply is complete."""
        if self.done:
            raise MessageError("invalid_message", f"frame seq {frame.seq} after the final frame")
        if frame.seq != self.frame_count:
            raise MessageError(
                "invalid_message", f"expected seq {self.frame_count}, got {frame.seq}", field="seq"
            )
        if self.audio_session_id is None:
            self.audio_session_id = frame.audio_session_id
            self.text = frame.text
        elif frame.audio_session_id != self.audio_session_id:
            raise MessageError(
                "invalid_message", "audio_session_id changed mid-reply", field="audio_session_id"
            )
        self._parts.append(frame.pcm)
        self.frame_count += 1
        self.done = frame.is_final
        return self.done

    @property
    def pcm(self) -> bytes:
        """PCM received so far."""
        return b"".join(self._parts)


def reassemble_audio_response(frames: Iterable[AudioResponse]) -> bytes:
    """Concatenate a complete reply's PCM, checking seq order and the final flag."""
    assembler = AudioResponseAssembler()
    for frame in frames:
        assembler.feed(frame)
    if not assembler.done:
        raise MessageError("invalid_message", "reply ended without an is_final frame")
    return assembler.pcm
