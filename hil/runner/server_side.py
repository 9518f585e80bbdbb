"""The embedded reference server as step handlers see it (`hil.steps.server_side.ServerSide`).

Publishing builds the image in a worker thread (it hashes and writes megabytes); config
overrides go to the server's store; faults go to its `FaultPlan`; its events reach
handlers through the `ServerEventLog` the runner pumps them into (server_setup).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from hil.errors import MissingCapabilityError
from hil.runner.server_setup import ServerHandle, server_capabilities
from hil.scenario.model import ReleaseSpec
from hil.steps.server_side import CUT_DOWNLOAD, HTTP_STATUS, FaultSpec, ServerSide
from hil.streams import ServerEventLog, Stream


class EmbeddedServerSide(ServerSide):
    """`ServerSide` of the scenario's own `EmbeddedServer` (hil.runner.server_setup)."""

    def __init__(self, handle: ServerHandle, events: ServerEventLog) -> None:
        self.handle = handle
        self._events = events

    @property
    def capabilities(self) -> frozenset[str]:
        return server_capabilities()

    @property
    def events(self) -> Stream:
        return self._events

    @property
    def data_dir(self) -> Path:
        return self.handle.data_dir

    @property
    def received_audio_dir(self) -> Path:
        folder = self.handle.state.settings.received_audio_dir
        if folder is None:  # settings_for leaves it off only under the production profile
            raise MissingCapabilityError(
                "the scenario's server runs the production profile, which refuses"
                " received_audio_dir (SPEC §6.5 rule 10): no server_audio"
            )
        return folder

    async def publish(self, release: ReleaseSpec) -> None:
        await asyncio.to_thread(self.handle.publish, release)

    async def set_config(self, key: str, value: object) -> None:
        self.handle.state.store.set_config(key, value)

    async def inject_fault(self, fault: FaultSpec) -> None:
        faults = self.handle.state.faults
        if fault.kind == HTTP_STATUS:
            assert fault.path is not None and fault.status is not None  # the builder checked
            faults.http_status(fault.path, fault.status, count=fault.count)
        elif fault.kind == CUT_DOWNLOAD:
            assert fault.after_bytes is not None
            faults.cut_download(fault.after_bytes, count=fault.count)
        else:
            faults.inject(fault.kind, count=fault.count)
