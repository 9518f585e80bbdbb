"""The server under test as step handlers see it: `ServerSide`, with named capabilities.

Handlers never touch a server object: they publish a release, set a config key,
inject a fault and read the server's event stream through this interface. The runner
implements it for the embedded reference server (`hil.runner.server_side`); another
implementation can drive an external server that offers only some of it. What a server
side offers is named by capability (`hil.targets.base.SERVER_CAPABILITIES`): a step kind
that needs one declares it (`StepKind.needs`, `Action.needs`), so the runner skips a
scenario before it starts instead of failing a step halfway.

This module also owns the vocabulary of that interface: the server event names a
scenario may wait for and the faults it may inject.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from hil.errors import MissingCapabilityError
from hil.scenario.model import ReleaseSpec
from hil.streams import Stream
from hil.targets.base import SERVER_AUDIO, SERVER_EVENTS, SERVER_FAULTS, SERVER_FILES
from protocol.server_faults import CHAT_FAULT_NAMES, FAULT_NAMES
from protocol.server_faults import CUT_DOWNLOAD as CUT_DOWNLOAD_FAULT
from protocol.server_faults import HTTP_STATUS as HTTP_STATUS_FAULT

# Events a server side publishes on its event stream (the reference server's
# `state.events`, server/events.py).
SERVER_EVENT_NAMES: Final = (
    "claim.ok",
    "claim.fail",
    "refresh.ok",
    "refresh.fail",
    "config.served",
    "manifest.served",
    "image.served",
    "ws.refused",
    "ws.open",
    "ws.close",
    "chat.utterance",
    "chat.text",
    "chat.error",
    "fault.injected",
)
# Faults on the WebSocket chat connection (SPEC §6), then the HTTP ones; the vocabulary is
# protocol.server_faults (SPEC §11.4), shared with the server.
CHAT_FAULT_KINDS: Final = CHAT_FAULT_NAMES
HTTP_STATUS: Final = HTTP_STATUS_FAULT.name  # answer `count` requests below `path` with `status`
CUT_DOWNLOAD: Final = CUT_DOWNLOAD_FAULT.name  # cut `count` image downloads after `after_bytes`
FAULT_KINDS: Final = FAULT_NAMES


@dataclass(frozen=True)
class FaultSpec:
    """One fault to inject; `path`/`status` only for http_status, `after_bytes` for cuts."""

    kind: str
    count: int = 1
    path: str | None = None
    status: int | None = None
    after_bytes: int | None = None


class ServerSide(abc.ABC):
    """What step handlers may do to the server under test.

    `publish` and `set_config` are what every server side must do; the event stream
    needs `server_events` and faults need `server_faults` (see `capabilities`).
    """

    @property
    @abc.abstractmethod
    def capabilities(self) -> frozenset[str]:
        """The optional capabilities offered: a subset of SERVER_CAPABILITIES."""

    @abc.abstractmethod
    async def publish(self, release: ReleaseSpec) -> None:
        """Build the image `release` describes and make it the newest for its chip."""

    @abc.abstractmethod
    async def set_config(self, key: str, value: object) -> None:
        """Override one key of the device config the server serves (SPEC §4.1)."""

    @property
    def events(self) -> Stream:
        """The server's event stream (capability `server_events`)."""
        raise MissingCapabilityError(self._lacks(SERVER_EVENTS))

    @property
    def data_dir(self) -> Path:
        """The server's data folder, read by `expect_files` (capability `server_files`)."""
        raise MissingCapabilityError(self._lacks(SERVER_FILES))

    @property
    def received_audio_dir(self) -> Path:
        """What the server's recogniser received of each utterance, one
        `<device_id>/<n>-<audio_session_id>.wav` + `.json` each (capability `server_audio`)."""
        raise MissingCapabilityError(self._lacks(SERVER_AUDIO))

    async def sync_files(self) -> None:  # noqa: B027 (optional: a local folder is current)
        """Bring `data_dir` up to date (a server elsewhere: a fresh copy of its files)."""

    async def inject_fault(self, fault: FaultSpec) -> None:
        """Misbehave as `fault` says (capability `server_faults`)."""
        raise MissingCapabilityError(self._lacks(SERVER_FAULTS))

    def _lacks(self, capability: str) -> str:
        return f"server side {type(self).__name__} does not offer {capability!r}"
