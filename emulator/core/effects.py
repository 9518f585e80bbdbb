"""What the device core asks its adapters to do (effects) and what they report back (inputs).

Owns the vocabulary between the sans-I/O core (`emulator.core.device.Device`) and the
asyncio host (`emulator.host`). The core never performs I/O: it returns effects in order,
and the host carries them out in that order and feeds the outcomes back as inputs, each
with the current uptime. The C firmware mirrors the same pairs (its drivers play the
host's part). Correlation ids (`req_id`, `conn_id`, `capture_id`) let the core ignore
late reports for work it has abandoned.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

NvsValue = str | int | bool

# --- effects: core -> host --------------------------------------------------------


@dataclass(frozen=True)
class Print:
    """Write one console line (an SPEC §8 event line or free text), without newline."""

    line: str


@dataclass(frozen=True)
class SetTimer:
    """Report `TimerFired(name, at_ms)` once uptime reaches `at_ms` (replaces `name`)."""

    name: str
    at_ms: int


@dataclass(frozen=True)
class CancelTimer:
    name: str


@dataclass(frozen=True)
class NvsSet:
    """Persist one NVS key; durable once applied (SPEC §3.2 token persistence)."""

    namespace: str
    key: str
    value: NvsValue


@dataclass(frozen=True)
class NvsErase:
    """Erase one key, or the whole namespace when `key` is None."""

    namespace: str
    key: str | None = None


@dataclass(frozen=True)
class WifiConnect:
    pass


@dataclass(frozen=True)
class WifiDisconnect:
    pass


@dataclass(frozen=True)
class SyncTime:
    """Start SNTP; the host answers `TimeSynced(epoch)`."""


@dataclass(frozen=True)
class HttpRequest:
    """One HTTP request; `stream` selects the streaming inputs (firmware download)."""

    req_id: int
    method: str
    url: str
    headers: tuple[tuple[str, str], ...] = ()
    body: str | None = None
    stream: bool = False


@dataclass(frozen=True)
class HttpCancel:
    req_id: int


@dataclass(frozen=True)
class WsConnect:
    conn_id: int
    url: str
    headers: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class WsSend:
    conn_id: int
    text: str


@dataclass(frozen=True)
class WsClose:
    conn_id: int
    code: int
    reason: str


CaptureKind = Literal["clip", "phrase", "live"]


@dataclass(frozen=True)
class StartCapture:
    """Open an audio source (`clip` name/path, `phrase` to synthesise, `live` microphone)."""

    capture_id: int
    kind: CaptureKind
    value: str = ""


@dataclass(frozen=True)
class StopCapture:
    """End a live capture (button release); the host then reports `CaptureEnded`."""

    capture_id: int


@dataclass(frozen=True)
class Play:
    """Queue reply PCM on the speaker."""

    audio_session_id: str
    pcm: bytes


@dataclass(frozen=True)
class PlayEnd:
    """The reply is complete (or cut short): save `rx-<id>.wav`, report `PlaybackDone`."""

    audio_session_id: str
    cut: bool = False


@dataclass(frozen=True)
class SaveWav:
    """Write PCM as `<name>` in the audio directory (e.g. `tx-<id>.wav`)."""

    name: str
    pcm: bytes


@dataclass(frozen=True)
class SlotErase:
    slot: str


@dataclass(frozen=True)
class SlotWrite:
    """Write `data` at `offset` of an app slot; the slot then ends there (SPEC §5.5)."""

    slot: str
    offset: int
    data: bytes


@dataclass(frozen=True)
class SlotRead:
    """Read the first `length` bytes of a slot; the host answers `SlotData`."""

    slot: str
    length: int


@dataclass(frozen=True)
class OtaSetBoot:
    """otadata: boot `slot` next, as a new image that must verify itself (SPEC §5.5)."""

    slot: str


@dataclass(frozen=True)
class OtaMarkValid:
    """The running pending-verify image passed its self-test; raise anti-rollback."""

    slot: str
    secure_version: int


@dataclass(frozen=True)
class OtaMarkInvalid:
    """The running image failed its self-test; the bootloader falls back next boot."""

    slot: str
    reason: str


@dataclass(frozen=True)
class OtaAckRollback:
    """The rollback report was printed; clear it from otadata."""


@dataclass(frozen=True)
class Reboot:
    """Software reset with this `reset_reason` (SPEC §8.2: `sw`, `panic`, ...)."""

    reason: str


Effect = (
    Print
    | SetTimer
    | CancelTimer
    | NvsSet
    | NvsErase
    | WifiConnect
    | WifiDisconnect
    | SyncTime
    | HttpRequest
    | HttpCancel
    | WsConnect
    | WsSend
    | WsClose
    | StartCapture
    | StopCapture
    | Play
    | PlayEnd
    | SaveWav
    | SlotErase
    | SlotWrite
    | SlotRead
    | OtaSetBoot
    | OtaMarkValid
    | OtaMarkInvalid
    | OtaAckRollback
    | Reboot
)
