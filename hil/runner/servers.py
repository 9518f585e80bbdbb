"""The server a run tests: the embedded reference server (default) or one at a URL.

Servers are chosen like targets: a `ServerChoice` says what it offers (capabilities, known
before any scenario starts, so a scenario that needs more is skipped with the reason) and
starts one `ServerRun` per scenario, with the wire tap in front of it. The embedded choice
starts a fresh reference server per scenario (hil.runner.server_setup); the external one
(hil.runner.external) resets a server that is already running through the harness admin API
of SPEC §11, or, without that API, only points the device at it.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from pathlib import Path

from hil.runner.server_setup import (
    ServerHandle,
    server_capabilities,
    start_server,
    start_tap,
    stop_server,
    wire_audio_dir,
)
from hil.runner.server_side import EmbeddedServerSide
from hil.scenario.model import Scenario
from hil.steps.server_side import ServerSide
from hil.streams import ServerEventLog, WireLog
from hil.tap.tap import WireTap
from server.speech.pipeline import SpeechPipeline


class ServerRun(abc.ABC):
    """One scenario's server with the tap in front of it, as the runner uses it."""

    tap: WireTap | None = None

    @property
    @abc.abstractmethod
    def base_url(self) -> str:
        """The server itself (`${server.direct_url}`)."""

    @property
    @abc.abstractmethod
    def ws_url(self) -> str:
        """The server's own WebSocket base (`${server.direct_ws_url}`)."""

    @property
    def device_url(self) -> str:
        """What the device is given: the tap in front of the server (`${server.url}`)."""
        return self.tap.url if self.tap is not None else self.base_url

    @property
    def device_ws_url(self) -> str:
        return self.tap.ws_url if self.tap is not None else self.ws_url

    def device_defaults(self) -> Mapping[str, object]:
        """Device settings the server needs (an identity it knows) unless the scenario sets them."""
        return {}

    @abc.abstractmethod
    def server_side(self) -> ServerSide:
        """What step handlers may do to this server."""

    async def start_tap(self, wire: WireLog) -> None:
        tap = WireTap(
            self.base_url, sink=wire.add_record, clock=wire.now, audio_dir=wire_audio_dir(wire)
        )
        await tap.start()
        self.tap = tap

    @abc.abstractmethod
    async def stop(self) -> None:
        """Stop the tap and whatever this run started; the server's log is complete after."""


class ServerChoice(abc.ABC):
    """Which server a run tests; one instance per run."""

    name: str = ""

    @abc.abstractmethod
    def capabilities(self) -> frozenset[str]:
        """What this server offers scenarios (SERVER_CAPABILITIES), known before they start."""

    def capability_notes(self) -> Mapping[str, str]:
        """Why an absent capability is absent (shown in skip reasons)."""
        return {}

    def cannot_run(self, scenario: Scenario) -> str | None:
        """Why this server cannot run `scenario` beyond a missing capability, or None."""
        return None

    @abc.abstractmethod
    async def start(
        self, scenario: Scenario, *, data_dir: Path, pipeline: SpeechPipeline, log: ServerEventLog
    ) -> ServerRun:
        """The server for `scenario`, with its `server:` settings and `given:` applied."""


class EmbeddedRun(ServerRun):
    """A fresh reference server in this process (hil.runner.server_setup)."""

    def __init__(self, handle: ServerHandle, log: ServerEventLog) -> None:
        self.handle = handle
        self._log = log

    @property
    def base_url(self) -> str:
        return self.handle.base_url

    @property
    def ws_url(self) -> str:
        return self.handle.server.ws_url

    def server_side(self) -> ServerSide:
        return EmbeddedServerSide(self.handle, self._log)

    async def start_tap(self, wire: WireLog) -> None:
        await start_tap(self.handle, wire)
        self.tap = self.handle.tap

    async def stop(self) -> None:
        await stop_server(self.handle)


class EmbeddedServer(ServerChoice):
    """The default: every scenario gets its own reference server with its own data folder."""

    name = "embedded"

    def capabilities(self) -> frozenset[str]:
        return server_capabilities()

    async def start(
        self, scenario: Scenario, *, data_dir: Path, pipeline: SpeechPipeline, log: ServerEventLog
    ) -> ServerRun:
        handle = await start_server(scenario, data_dir=data_dir, pipeline=pipeline, log=log)
        return EmbeddedRun(handle, log)
