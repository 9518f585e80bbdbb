"""The audio that crossed the tap, as files: `wire-audio/{down,up}-<audio_session_id>.wav`.

The wire log keeps only each `audio_data` member's size and digest (hil.tap.summary), so
what the server sent and what the device uploaded is kept here instead, per connection and
`audio_session_id`: the decoded PCM of the `audio_response` frames (down, in the order they
crossed) and of the `audio_chunk` messages (up; a chunk without an id joins the utterance
its connection's last `audio_start` opened, SPEC §6.5 rule 2, or the id the server's
`audio_start_ack` gave it), each as a WAV (SPEC §7.1; down at its frames' `sample_rate`)
with a sidecar `.json` (`SIDECAR_KEYS`: `t` on the scenario clock like wire.jsonl; `last_t`
of an upload is when its last chunk crossed, its `audio_end` adds nothing).

The WAV is appended as messages cross and its header is true after every append, so a
scenario cut short keeps what crossed; the sidecar is written when the stream ends (its
final frame or chunk, its `audio_end`, the connection's end, the tap's stop). Bounded: at
most `MAX_FILE_BYTES` of PCM per file (the rest is counted in `cut_bytes`). A member that
is not canonical base64 of whole samples is counted in `bad_audio`, never fatal. This
observer sees messages after the relay forwarded their bytes, so it cannot change what
the tap forwards; a failure inside it (a full disk) is reported once to the tap's problem
list and stops only the audio files.
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Final

from hil.tap.records import DOWN, UP
from protocol.audio import b64decode_pcm
from protocol.errors import MessageError

WIRE_AUDIO_DIR: Final = "wire-audio"  # in the scenario's artifact folder
MAX_FILE_BYTES: Final = 960_000  # SPEC §6.6: the longest utterance, 30 s
DEFAULT_RATE: Final = 16_000  # SPEC §7.1
SIDECAR_KEYS: Final = (
    "conn",
    "audio_session_id",
    "dir",
    "frames",
    "bytes",
    "first_t",
    "last_t",
    "sample_rate",
    "bad_audio",
    "cut_bytes",
)
_UNSAFE: Final = re.compile(r"[^A-Za-z0-9._-]")
Problems = Callable[[str], None]


def wav_header(data_bytes: int, rate: int) -> bytes:
    """The canonical 44-byte header of mono s16le PCM (SPEC §7.1) holding `data_bytes`."""
    return struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + data_bytes,
        b"WAVE",
        b"fmt ",
        16,
        1,  # PCM
        1,  # mono
        rate,
        rate * 2,
        2,
        16,
        b"data",
        data_bytes,
    )


def decode_pcm(value: object) -> bytes | None:
    """An `audio_data` member's PCM, or None when it is not canonical base64 of whole
    samples (SPEC §6.3: what the server refuses with invalid_audio_data)."""
    if not isinstance(value, str):
        return None
    try:
        return b64decode_pcm(value)
    except MessageError:
        return None


@dataclass
class _Stream:
    """One file: a direction's audio of one audio_session_id on one connection."""

    conn: int
    direction: str
    sid: str
    path: Path
    rate: int = DEFAULT_RATE
    frames: int = 0
    size: int = 0
    bad_audio: int = 0
    cut_bytes: int = 0
    first_t: float | None = None
    last_t: float | None = None
    handle: IO[bytes] | None = field(default=None, repr=False)

    def add(self, pcm: bytes | None, t: float) -> None:
        self.frames += 1
        self.first_t = t if self.first_t is None else self.first_t
        self.last_t = t
        if pcm is None:
            self.bad_audio += 1
            return
        room = max(0, MAX_FILE_BYTES - self.size)
        kept = pcm[:room]
        self.cut_bytes += len(pcm) - len(kept)
        handle = self._open()
        if kept:
            handle.seek(0, 2)
            handle.write(kept)
            self.size += len(kept)
        handle.seek(0)
        handle.write(wav_header(self.size, self.rate))
        handle.flush()

    def _open(self) -> IO[bytes]:
        if self.handle is None:
            if self.path.exists():  # ended once, more came: append to it
                self.handle = self.path.open("r+b")
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.handle = self.path.open("w+b")
                self.handle.write(wav_header(0, self.rate))
        return self.handle

    def end(self) -> None:
        """Close the file and write the sidecar (again, if it ended before)."""
        if self.handle is not None:
            self.handle.close()
            self.handle = None
        if self.frames == 0:
            return
        sidecar = {
            "conn": self.conn,
            "audio_session_id": self.sid,
            "dir": self.direction,
            "frames": self.frames,
            "bytes": self.size,
            "first_t": None if self.first_t is None else round(self.first_t, 6),
            "last_t": None if self.last_t is None else round(self.last_t, 6),
            "sample_rate": self.rate,
            "bad_audio": self.bad_audio,
            "cut_bytes": self.cut_bytes,
        }
        if not self.path.exists():  # every frame was bad: an empty WAV says so
            self._open().close()
            self.handle = None
        self.path.with_suffix(".json").write_text(json.dumps(sidecar) + "\n", encoding="utf-8")


class WireAudio:
    """The tap's audio files of one scenario: one per direction and audio_session_id."""

    def __init__(self, folder: Path, *, problems: Problems) -> None:
        self.folder = folder
        self._problems = problems
        self._names: set[str] = set()
        self._connections: list[ConnectionAudio] = []
        self.failed = False

    def connection(self, conn: int) -> ConnectionAudio:
        audio = ConnectionAudio(self, conn)
        self._connections.append(audio)
        return audio

    def path_for(self, conn: int, direction: str, sid: str) -> Path:
        """`<dir>-<sid>.wav`; a second connection with the same id gets `-c<conn>` added."""
        stem = f"{direction}-{_UNSAFE.sub('_', sid)[:64] or '_'}"
        if stem in self._names:
            stem = f"{stem}-c{conn}"
        self._names.add(stem)
        return self.folder / f"{stem}.wav"

    def guard(self, action: Callable[[], None]) -> None:
        """Run `action`; a failure stops the audio files, never the tap."""
        if self.failed:
            return
        try:
            action()
        except Exception as exc:
            self.failed = True
            self._problems(f"wire audio stopped: {type(exc).__name__}: {exc}")

    def close(self) -> None:
        """The tap stops: every stream still open ends (its sidecar is written)."""
        for audio in self._connections:
            audio.close()
        self._connections.clear()


class ConnectionAudio:
    """The audio streams of one tapped connection."""

    def __init__(self, owner: WireAudio, conn: int) -> None:
        self._owner = owner
        self.conn = conn
        self._streams: dict[tuple[str, str], _Stream] = {}
        self._utterance: str | None = None  # the id the last audio_start opened
        self._unnamed = 0
        self._unnamed_open = False  # the last audio_start had no id; its ack names it

    def message(self, direction: str, fields: Mapping[str, object], t: float) -> None:
        """A whole JSON object message that crossed in `direction` at `t`."""
        self._owner.guard(lambda: self._message(direction, fields, t))

    def _message(self, direction: str, fields: Mapping[str, object], t: float) -> None:
        kind = fields.get("type")
        sid = fields.get("audio_session_id")
        sid = sid if isinstance(sid, str) and sid else None
        if direction == DOWN and kind == "audio_response" and sid is not None:
            stream = self._stream(DOWN, sid, fields.get("sample_rate"))
            stream.add(decode_pcm(fields.get("audio_data")), t)
            if fields.get("is_final") is True:
                stream.end()
        elif direction == DOWN and kind == "system":
            self._ack(fields.get("data"))
        elif direction == UP and kind == "audio_start":
            self._unnamed_open = sid is None
            self._utterance = sid if sid is not None else self._placeholder()
        elif direction == UP and kind == "audio_chunk":
            target = sid or self._utterance or self._placeholder()
            self._utterance = self._utterance or target
            stream = self._stream(UP, target, None)
            stream.add(decode_pcm(fields.get("audio_data")), t)
            if fields.get("is_final") is True:
                stream.end()
        elif direction == UP and kind == "audio_end" and sid is not None:
            ended = self._streams.get((UP, sid))
            if ended is not None:
                ended.end()

    def _placeholder(self) -> str:
        self._unnamed += 1
        return f"conn{self.conn}-unnamed{self._unnamed}"

    def _ack(self, data: object) -> None:
        """`audio_start_ack` names an utterance whose audio_start had no id (SPEC §6.3)."""
        if not (isinstance(data, Mapping) and data.get("type") == "audio_start_ack"):
            return
        sid = data.get("audio_session_id")
        if not (self._unnamed_open and isinstance(sid, str) and sid and self._utterance):
            return
        self._unnamed_open = False
        old = self._streams.pop((UP, self._utterance), None)
        if old is not None:  # chunks came before the ack: move their file to the real name
            if old.handle is not None:
                old.handle.close()
                old.handle = None
            new_path = self._owner.path_for(self.conn, UP, sid)
            if old.path.exists():
                old.path.replace(new_path)
            old.path, old.sid = new_path, sid
            self._streams[(UP, sid)] = old
        self._utterance = sid

    def _stream(self, direction: str, sid: str, rate: object) -> _Stream:
        stream = self._streams.get((direction, sid))
        if stream is None:
            path = self._owner.path_for(self.conn, direction, sid)
            stream = _Stream(self.conn, direction, sid, path)
            if isinstance(rate, int) and not isinstance(rate, bool) and 0 < rate <= 192_000:
                stream.rate = rate
            self._streams[(direction, sid)] = stream
        return stream

    def close(self) -> None:
        """The connection ended: its open streams end."""
        streams = list(self._streams.values())
        self._streams.clear()
        for stream in streams:
            self._owner.guard(stream.end)
