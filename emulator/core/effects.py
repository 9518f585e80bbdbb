"""What the device core asks its adapters to do (effects).

The effect half of the core's vocabulary is generated from the device model into
`protocol.device_io` (one dataclass per `effects:` kind of protocol/device_model.yaml);
this module re-exports it for the core and its host (`emulator.effects_runner`). The
core never performs I/O: it returns effects in order, and the host carries them out in
that order and feeds the outcomes back as inputs (`emulator.core.inputs`), each with the
current uptime. The C firmware has the same kinds (teddy_model.h); its drivers play the
host's part.
"""

from __future__ import annotations

from protocol.device_io import (
    CancelTimer,
    Effect,
    HttpCancel,
    HttpRequest,
    NvsErase,
    NvsSet,
    NvsValue,
    OtaAckRollback,
    OtaMarkInvalid,
    OtaMarkValid,
    OtaSetBoot,
    Play,
    PlayEnd,
    Print,
    Reboot,
    SaveAudio,
    SetTimer,
    SetVolume,
    SlotErase,
    SlotRead,
    SlotWrite,
    StartCapture,
    StopCapture,
    SyncTime,
    WifiConnect,
    WifiDisconnect,
    WsClose,
    WsConnect,
    WsSend,
)
from protocol.device_model import CaptureKind

__all__ = [
    "CancelTimer",
    "CaptureKind",
    "Effect",
    "HttpCancel",
    "HttpRequest",
    "NvsErase",
    "NvsSet",
    "NvsValue",
    "OtaAckRollback",
    "OtaMarkInvalid",
    "OtaMarkValid",
    "OtaSetBoot",
    "Play",
    "PlayEnd",
    "Print",
    "Reboot",
    "SaveAudio",
    "SetTimer",
    "SetVolume",
    "SlotErase",
    "SlotRead",
    "SlotWrite",
    "StartCapture",
    "StopCapture",
    "SyncTime",
    "WifiConnect",
    "WifiDisconnect",
    "WsClose",
    "WsConnect",
    "WsSend",
]
