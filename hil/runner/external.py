"""A server under test at a URL (`teddy-hil run --server URL`): someone else's backend.

Before a run, the harness asks the server for its admin API (SPEC §11.1). With it, every
scenario starts from a reset with the scenario's `server:` settings (§11.2), its `given:`
is provisioned and published (§11.3), faults go through §11.4 and the server's events and
files are read through §11.5: the whole suite runs. Without it the harness can only point
the device at the server: scenarios that need server control, events, faults or files are
skipped with the reason, and, since nothing is reset between scenarios, each scenario's
device gets an identity of its own (from the provisioning file, or a fresh
`Teddy-ESP32-*` id a development-profile server registers on its first claim, SPEC §2.7)
so that one scenario's claims never count against the next one's rate limit (§2.6).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from hil.errors import HilError
from hil.runner.admin_client import AdminClient, Discovery, ServerUnderTestError, discover
from hil.runner.releases import prepare
from hil.runner.servers import ServerChoice, ServerRun
from hil.scenario.model import ReleaseSpec, Scenario, ServerSpec
from hil.steps.server_side import CUT_DOWNLOAD, HTTP_STATUS, FaultSpec, ServerSide
from hil.streams import ServerEventLog, Stream
from hil.targets.base import (
    SERVER_AUDIO,
    SERVER_CONTROL,
    SERVER_EVENTS,
    SERVER_FAULTS,
    SERVER_FILES,
)
from protocol.provision import Provisioning
from server.speech.pipeline import SpeechPipeline

# SPEC §11.6: which parts of the admin API each harness capability needs.
NEEDED_PARTS: Final[Mapping[str, frozenset[str]]] = {
    SERVER_CONTROL: frozenset({"reset", "provision", "publish", "config"}),
    SERVER_EVENTS: frozenset({"events"}),
    SERVER_FAULTS: frozenset({"faults"}),
    SERVER_FILES: frozenset({"files"}),
}
# No admin API part gives it: the received audio is written on the server's own machine.
NO_SERVER_AUDIO: Final = (
    "only the embedded server writes its received audio into the scenario's folder"
    " (server-audio/); a server at a URL keeps it on its own machine, if at all"
)


@dataclass(frozen=True)
class ExternalServerOptions:
    """How to reach the server under test and what it knows (the CLI's `--server ...`)."""

    url: str
    harness_token: str | None = None
    # Device ids, OOB secrets and child ids the server knows (`teddy-server provision` format).
    provisioning: Provisioning | None = None


def load_known(path: Path) -> Provisioning:
    """The provisioning file of `--server-provisioning` (`teddy-server provision` format)."""
    from server.errors import ConfigurationError
    from server.provision import load_provisioning

    try:
        return load_provisioning(path)
    except ConfigurationError as exc:
        raise HilError(f"--server-provisioning: {exc}") from exc


def reset_settings(spec: ServerSpec) -> dict[str, object]:
    """A scenario's `server:` as the members of a SPEC §11.2 reset (unset: server defaults)."""
    settings: dict[str, object] = {"profile": spec.profile}
    for name, value in (
        ("access_ttl_s", spec.access_ttl_s),
        ("refresh_ttl_s", spec.refresh_ttl_s),
        ("heartbeat_interval_s", spec.heartbeat_interval_s),
        ("keep_utterance_audio", spec.keep_utterance_audio),
        ("chat_path", spec.chat_path),
    ):
        if value is not None:
            settings[name] = value
    if spec.quirks:
        settings["quirks"] = list(spec.quirks)
    if spec.rate_limits is not None:
        per_device, per_ip, window = spec.rate_limits
        settings["rate_limits"] = {"per_device": per_device, "per_ip": per_ip, "window_s": window}
    return settings


class ExternalServer(ServerChoice):
    """The server at `options.url`, with or without the SPEC §11 admin API."""

    name = "external"

    def __init__(self, options: ExternalServerOptions) -> None:
        self.options = options
        self._found: Discovery | str | None = None
        self._scenarios = 0

    @property
    def discovery(self) -> Discovery | str:
        """The admin API found, or why there is none (asked once per run)."""
        if self._found is None:
            self._found = discover(self.options.url, self.options.harness_token)
        return self._found

    def capabilities(self) -> frozenset[str]:
        found = self.discovery
        if isinstance(found, str):
            return frozenset()
        return frozenset(cap for cap, parts in NEEDED_PARTS.items() if parts <= found.offers)

    def capability_notes(self) -> Mapping[str, str]:
        found = self.discovery
        if isinstance(found, str):
            return {**dict.fromkeys(NEEDED_PARTS, found), SERVER_AUDIO: NO_SERVER_AUDIO}
        return {
            **{
                cap: "the server's admin API does not offer "
                + ", ".join(sorted(parts - found.offers))
                for cap, parts in NEEDED_PARTS.items()
                if not parts <= found.offers
            },
            SERVER_AUDIO: NO_SERVER_AUDIO,
        }

    def cannot_run(self, scenario: Scenario) -> str | None:
        found = self.discovery
        if isinstance(found, str) or SERVER_CONTROL not in self.capabilities():
            return None  # the capability check names what is missing
        unknown = sorted(set(reset_settings(scenario.server)) - found.settings)
        if unknown:
            return (
                f"the server under test cannot apply the `server:` settings {unknown} (SPEC §11.2)"
            )
        return None

    async def start(
        self, scenario: Scenario, *, data_dir: Path, pipeline: SpeechPipeline, log: ServerEventLog
    ) -> ServerRun:
        self._scenarios += 1
        run = ExternalRun(self, scenario, data_dir=data_dir, log=log, index=self._scenarios)
        try:
            await run.set_up()
        except BaseException:
            await run.stop()
            raise
        return run


class ExternalRun(ServerRun):
    """One scenario against the external server."""

    def __init__(
        self,
        choice: ExternalServer,
        scenario: Scenario,
        *,
        data_dir: Path,
        log: ServerEventLog,
        index: int,
    ) -> None:
        self.choice = choice
        self.scenario = scenario
        self.files_dir = data_dir
        self.log = log
        self.index = index
        caps = choice.capabilities()
        token = choice.options.harness_token
        self.admin = AdminClient(choice.options.url, token) if caps and token else None
        self._pump: asyncio.Task[None] | None = None

    @property
    def base_url(self) -> str:
        return self.choice.options.url.rstrip("/")

    @property
    def ws_url(self) -> str:
        return "ws" + self.base_url.removeprefix("http")

    async def set_up(self) -> None:
        caps = self.choice.capabilities()
        if self.admin is None:
            return
        if SERVER_CONTROL in caps:
            await self.admin.reset(reset_settings(self.scenario.server))
            known = self.choice.options.provisioning
            if known is not None:
                await self.admin.provision(known.to_json())
            if not self.scenario.given.provisioning.empty:
                await self.admin.provision(self.scenario.given.provisioning.to_json())
            for release in self.scenario.given.releases:
                await publish(self.admin, release, seed=self.scenario.name)
        if SERVER_EVENTS in caps:
            self._pump = asyncio.create_task(_pump(self.admin, self.log), name="hil-server-events")

    def device_defaults(self) -> Mapping[str, object]:
        known = self.choice.options.provisioning
        if known is not None and known.devices:
            device = known.devices[(self.index - 1) % len(known.devices)]
            identity: dict[str, object] = {
                "device_id": device.device_id,
                "oob_secret": device.oob_secret,
            }
            if known.children:
                identity["child_id"] = known.children[
                    (self.index - 1) % len(known.children)
                ].child_id
            return identity
        if SERVER_CONTROL in self.choice.capabilities():
            return {}  # reset before every scenario: the defaults never meet a rate limit
        tag = hashlib.sha256(f"{os.getpid()}:{self.index}:{self.scenario.name}".encode())
        return {"device_id": f"Teddy-ESP32-{tag.hexdigest()[:8].upper()}"}

    def server_side(self) -> ServerSide:
        return ExternalServerSide(self)

    async def stop(self) -> None:
        if self.tap is not None:
            await self.tap.stop()
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
        if self.admin is not None:
            await self.admin.close()


async def publish(admin: AdminClient, release: ReleaseSpec, *, seed: str) -> None:
    prepared = await asyncio.to_thread(prepare, release, seed=seed)
    over = prepared.overrides
    await admin.publish(
        prepared.image,
        mandatory=prepared.mandatory,
        notes=prepared.notes,
        allow_invalid=prepared.allow_invalid,
        manifest={name: getattr(over, name) for name in vars(over)},
    )


async def _pump(admin: AdminClient, log: ServerEventLog) -> None:
    """Copy the server's events (SPEC §11.5, long-polled) into the scenario's log."""
    seq = 0
    while True:
        try:
            records = await admin.events_after(seq)
        except ServerUnderTestError as exc:
            log.add_event("harness.error", {"error": str(exc)}, server_time=0.0)
            return
        for record in records:
            seq = max(seq, record.seq)
            log.add_event(record.name, record.data, server_time=record.t)


class ExternalServerSide(ServerSide):
    """`ServerSide` of a server under test, through its SPEC §11 admin API."""

    def __init__(self, run: ExternalRun) -> None:
        self.run = run

    @property
    def capabilities(self) -> frozenset[str]:
        return self.run.choice.capabilities()

    def _admin(self, capability: str) -> AdminClient:
        if self.run.admin is None or capability not in self.capabilities:
            raise ServerUnderTestError(self._lacks(capability))
        return self.run.admin

    @property
    def events(self) -> Stream:
        self._admin(SERVER_EVENTS)
        return self.run.log

    @property
    def data_dir(self) -> Path:
        self._admin(SERVER_FILES)
        return self.run.files_dir

    async def sync_files(self) -> None:
        self.run.files_dir.mkdir(parents=True, exist_ok=True)
        await self._admin(SERVER_FILES).mirror_files(self.run.files_dir)

    async def publish(self, release: ReleaseSpec) -> None:
        await publish(self._admin(SERVER_CONTROL), release, seed=self.run.scenario.name)

    async def set_config(self, key: str, value: object) -> None:
        await self._admin(SERVER_CONTROL).set_config(key, value)

    async def inject_fault(self, fault: FaultSpec) -> None:
        spec: dict[str, object] = {"kind": fault.kind, "count": fault.count}
        if fault.kind == HTTP_STATUS:
            spec.update(path=fault.path, status=fault.status)
        elif fault.kind == CUT_DOWNLOAD:
            spec.update(after_bytes=fault.after_bytes)
        await self._admin(SERVER_FAULTS).fault(spec)
