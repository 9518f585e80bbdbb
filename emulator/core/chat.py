"""Utterances up, replies down: the device's half of SPEC §6.5 and §7.

Owns the uplink (a capture becomes `audio_start`, 4096-byte `audio_chunk`s as the source
delivers them, the remainder with `is_final:true`, then `audio_end`; at most 30 s; sent
PCM is appended to `tx-<id>.wav` as it goes, so a long utterance never sits in RAM) and the
downlink (`text_response` -> `text.rx`; `audio_response` frames reassembled in `seq` order
and played; a gap prints `error{audio_seq_gap}` and stops that reply; a `seq` 0 with a new
id cuts the previous reply short). It also derives the chat sub-state of SPEC §8.3
(`listening` > `speaking` > `thinking` > `idle`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from emulator.core.context import Ctx, State
from emulator.core.effects import CaptureKind, PlayEnd, SaveAudio, StartCapture, StopCapture
from emulator.core.link import Link
from emulator.core.playback import play_frame
from protocol import device_model as dm
from protocol.audio import AudioResponseAssembler
from protocol.constants import MAX_UTTERANCE_BYTES, UPLINK_CHUNK_BYTES, WS_TRANSPORT_MAX_BYTES
from protocol.device_events import (
    AudioRxEndEvent,
    AudioRxStartEvent,
    AudioTxEndEvent,
    AudioTxStartEvent,
    CmdErrorEvent,
    CmdOkEvent,
    ErrorEvent,
    TextRxEvent,
)
from protocol.device_model import SERVER_CODE_MAX_BYTES, CommandErrorReason, CommandName
from protocol.errors import MessageError
from protocol.messages import (
    AudioChunk,
    AudioEnd,
    AudioResponse,
    AudioStart,
    ErrorMessage,
    ServerMessage,
    TextMessage,
    TextResponse,
    encode_message,
)
from protocol.server_answer import quote

# Server error codes that answer an utterance or a text instead of a reply (SPEC §6.3).
_REPLY_ERRORS = frozenset(
    {
        "no_audio_data",
        "audio_too_short",
        "audio_too_long",
        "invalid_audio_data",
        "empty_text",
        "processing_error",
        "utterance_timeout",
        "busy",
    }
)


def oversize(frame: str) -> str:
    """The quirk oversize_frame: a `padding` member takes the frame one byte past the
    SPEC §6.6 transport limit (65,536 bytes), which the server answers with close 1009."""
    room = WS_TRANSPORT_MAX_BYTES + 1 - len(frame.encode()) - len(',"padding":""')
    return frame[:-1] + ',"padding":"' + "x" * max(0, room) + '"}'


@dataclass
class _Capture:
    capture_id: int
    command: CommandName  # the console command that started it (`talk` / `button`)
    audio_session_id: str = ""
    started: bool = False
    buffer: bytearray = field(default_factory=bytearray)  # one uplink chunk being filled
    pcm_total: int = 0  # bytes taken from the source (at most 30 s, SPEC §6.5)
    chunks: int = 0
    start_late: bool = False  # the quirk audio_before_start: audio_start follows chunk 0

    @property
    def wav_name(self) -> str:
        return f"tx-{self.audio_session_id}.wav"


class Chat:
    """Capture and playback bookkeeping for one boot."""

    def __init__(self, ctx: Ctx, *, link: Link, settle: Callable[[], None]) -> None:
        self.ctx = ctx
        self.link = link
        self._settle = settle
        self.capture: _Capture | None = None
        self.pending = 0  # utterances/texts sent and not yet answered
        self._reply: AudioResponseAssembler | None = None
        self._dead_reply: str | None = None
        self.playing: set[str] = set()
        self._utterances = 0

    def substate(self) -> State:
        if self.capture is not None and self.capture.started:
            return "listening"
        if self._reply is not None or self.playing:
            return "speaking"
        return "thinking" if self.pending > 0 else "idle"

    @property
    def idle(self) -> bool:
        return self.capture is None and self.substate() == "idle"

    # --- uplink -------------------------------------------------------------------------

    def start_capture(self, *, command: CommandName, kind: CaptureKind, value: str = "") -> None:
        """Open a source; `cmd.ok`/`cmd.error` follow when the host reports back."""
        capture_id = self.ctx.new_id()
        self.capture = _Capture(capture_id, command)
        self.ctx.do(StartCapture(capture_id, kind, value))

    def stop_capture(self) -> None:
        if self.capture is not None:
            self.ctx.do(StopCapture(self.capture.capture_id))

    def _current(self, capture_id: int) -> _Capture | None:
        capture = self.capture
        return capture if capture is not None and capture.capture_id == capture_id else None

    def on_capture_started(self, capture_id: int) -> None:
        capture = self._current(capture_id)
        if capture is None:
            self.ctx.do(StopCapture(capture_id))
            return
        if not self.link.is_open:
            self.capture = None
            self.ctx.do(StopCapture(capture_id))
            self.ctx.emit(
                CmdErrorEvent(cmd=capture.command, reason="bad_argument", message="not connected")
            )
            return
        self.ctx.emit(CmdOkEvent(cmd=capture.command))
        self._utterances += 1
        capture.audio_session_id = f"u-{self.ctx.boot.boot_count}-{self._utterances:04d}"
        capture.started = True
        if self.ctx.quirk("audio_before_start"):
            capture.start_late = True  # SPEC Appendix C: sent after the first chunk
        else:
            self.link.send(AudioStart(capture.audio_session_id))
        self.ctx.emit(AudioTxStartEvent(audio_session_id=capture.audio_session_id))
        self._settle()

    def on_capture_failed(self, capture_id: int, reason: str, message: str) -> None:
        capture = self._current(capture_id)
        if capture is None:
            return
        self.capture = None
        refusal: CommandErrorReason = "bad_value"  # a driver's reason is one of SPEC §9.3's
        for known in dm.COMMAND_ERROR_REASONS:
            if known == reason:
                refusal = known
        self.ctx.emit(CmdErrorEvent(cmd=capture.command, reason=refusal, message=message))
        self._settle()

    def on_capture_chunk(self, capture_id: int, pcm: bytes) -> None:
        capture = self._current(capture_id)
        if capture is None or not capture.started:
            return
        room = MAX_UTTERANCE_BYTES - capture.pcm_total
        # SPEC §6.5 rule 4: a device stops sending at 30 s.
        pcm = pcm[: max(0, room)]
        capture.pcm_total += len(pcm)
        capture.buffer += pcm
        if pcm:
            self.ctx.do(SaveAudio(capture.wav_name, pcm))  # appended: never 30 s in RAM
        size = self.ctx.nvs_get(dm.NVS_AUTH_CHUNK_BYTES) or UPLINK_CHUNK_BYTES
        while len(capture.buffer) >= size and capture.pcm_total < MAX_UTTERANCE_BYTES:
            self._send_chunk(capture, bytes(capture.buffer[:size]), final=False)
            del capture.buffer[:size]
        if capture.pcm_total >= MAX_UTTERANCE_BYTES:
            self.ctx.do(StopCapture(capture_id))
            self.on_capture_ended(capture_id)

    def _send_chunk(self, capture: _Capture, pcm: bytes, *, final: bool) -> None:
        chunk = AudioChunk(pcm, str(capture.chunks), capture.audio_session_id, final)
        self.link.send(chunk)
        capture.chunks += 1
        if capture.start_late:
            capture.start_late = False
            self.link.send(AudioStart(capture.audio_session_id))

    def on_capture_ended(self, capture_id: int) -> None:
        capture = self._current(capture_id)
        if capture is None or not capture.started:
            return
        self.capture = None
        # SPEC §7.2: the partial chunk (or an empty one) with is_final, then audio_end
        # (the quirk audio_end_before_final swaps the two, SPEC Appendix C).
        if self.ctx.quirk("audio_end_before_final"):
            self.link.send(AudioEnd(capture.audio_session_id))
        self._send_chunk(capture, bytes(capture.buffer), final=True)
        if not self.ctx.quirk("audio_end_before_final"):
            self.link.send(AudioEnd(capture.audio_session_id))
        self.ctx.do(SaveAudio(capture.wav_name, b""))  # an empty utterance still leaves its WAV
        self.ctx.emit(
            AudioTxEndEvent(
                audio_session_id=capture.audio_session_id,
                bytes=capture.pcm_total,
                chunks=capture.chunks,
            )
        )
        self.pending += 1
        self._settle()

    def send_text(self, text: str) -> bool:
        frame = encode_message(TextMessage(text))
        if self.ctx.quirk("oversize_frame"):
            frame = oversize(frame)
        if not self.link.send_raw(frame):
            return False
        self.pending += 1
        self._settle()
        return True

    # --- downlink -----------------------------------------------------------------------

    def on_message(self, message: ServerMessage) -> None:
        if isinstance(message, TextResponse):
            transcript = message.transcript or ""
            self.ctx.emit(TextRxEvent(text=message.text, transcript=transcript))
        elif isinstance(message, AudioResponse):
            self._on_audio(message)
        elif isinstance(message, ErrorMessage):
            # SPEC §8.1: the server's words, quoted (one line, bounded).
            code = quote(message.error_code, SERVER_CODE_MAX_BYTES)
            self.ctx.emit(ErrorEvent(code=code, message=quote(message.error_message)))
            if message.error_code in _REPLY_ERRORS and self.pending > 0:
                self.pending -= 1
        self._settle()

    def _on_audio(self, frame: AudioResponse) -> None:
        session = frame.audio_session_id
        if frame.seq == 0:
            if self._reply is not None:
                self._end_reply(cut=True)  # SPEC §7.3: a new seq 0 cuts the old reply
            self._reply = AudioResponseAssembler()
            self._dead_reply = None
            self.ctx.emit(AudioRxStartEvent(audio_session_id=session))
        elif self._reply is None or session != self._reply.audio_session_id:
            if session != self._dead_reply:
                self._seq_gap(session, f"frame seq {frame.seq} of {session} without seq 0")
            return
        assert self._reply is not None
        try:
            done = self._reply.feed(frame)
        except MessageError as exc:
            self._seq_gap(session, exc.message)
            self.ctx.do(PlayEnd(session, cut=True))
            self.playing.add(session)
            self._reply = None
            self.pending = max(0, self.pending - 1)
            return
        self.ctx.do(play_frame(self.ctx.quirks, session, frame.seq, frame.pcm))
        if done:
            self._end_reply(cut=False)

    def _seq_gap(self, session: str, message: str) -> None:
        self._dead_reply = session
        self.ctx.emit(ErrorEvent(code="audio_seq_gap", message=message))

    def _end_reply(self, *, cut: bool) -> None:
        reply = self._reply
        assert reply is not None and reply.audio_session_id is not None
        session = reply.audio_session_id
        pcm = reply.pcm
        self.ctx.emit(
            AudioRxEndEvent(
                audio_session_id=session,
                bytes=len(pcm),
                frames=reply.frame_count,
                text=reply.text or "",
            )
        )
        self.ctx.do(PlayEnd(session, cut=cut))
        self.playing.add(session)
        self._reply = None
        self.pending = max(0, self.pending - 1)

    def on_playback_done(self, audio_session_id: str) -> None:
        self.playing.discard(audio_session_id)
        self._settle()

    def on_link_lost(self) -> None:
        """The WebSocket ended: abandon the utterance and any reply in flight."""
        if self.capture is not None:
            self.ctx.do(StopCapture(self.capture.capture_id))
            if self.capture.started:
                self.ctx.log(f"utterance {self.capture.audio_session_id} aborted: link lost")
            else:  # the command is still waiting for its one reply (SPEC §9.3)
                self.ctx.emit(
                    CmdErrorEvent(
                        cmd=self.capture.command, reason="bad_argument", message="link lost"
                    )
                )
            self.capture = None
        if self._reply is not None and self._reply.audio_session_id is not None:
            self.ctx.do(PlayEnd(self._reply.audio_session_id, cut=True))
            self.playing.add(self._reply.audio_session_id)
            self._reply = None
        self.pending = 0
