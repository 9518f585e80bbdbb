"""The `wokwi` target: the ESP-IDF build of the firmware, simulated by Wokwi.

Its options are `WokwiOptions` (hil.wokwi.options). Needs a token (`$WOKWI_CLI_TOKEN`);
without it the target is unavailable and every scenario is skipped with that reason.
wokwi-client talks to Wokwi's cloud, or to the `api_url` option (`--wokwi-api-url`, e.g.
a local `teddy-hil wokwi-server`).

Per scenario: upload the `diagram` (`firmware/diagram.json`) and the `build`
(`--wokwi-build`, see `hil.wokwi.project`), start the simulation (`hil.wokwi.session`:
paused, monitor attached, resumed), wait for its first `boot`, provision it over the
console like a lab board (factory-reset, `set server|child_*`, `reboot`;
`hil.targets.console_provision`), then hand the console to the scenario from the `boot`
that follows. Serial bytes go through `LineSplitter` into the same event parser as every
target; `button press|release` console writes become `set_control` on the diagram's push
button (GPIO0).

Where the simulated board finds the reference server: the `public_url` option
(`--wokwi-public-url`, a public URL of the harness's server), else the harness's URL (the
scenario's wire tap, hil.tap) with its host replaced by `host.wokwi.internal`, which
Wokwi's private IoT gateway (and the local Wokwi server) maps to the machine running it
(docs/wokwi.md), so the simulated board's traffic is in wire.jsonl too.

Timeouts in simulated time (`clock: simulated`) use `simulated_clock`.
`device/wokwi.json` records the upload size and time, and the simulated and wall time the
scenario took.
"""

from __future__ import annotations

import asyncio
import json
import time
from contextlib import AbstractAsyncContextManager
from typing import Final
from urllib.parse import urlsplit, urlunsplit

from hil.errors import HilError, MissingCapabilityError
from hil.targets.base import (
    AUDIO_CAPTURE,
    AUDIO_IN,
    AUDIO_OUT,
    BUTTON,
    IDENTITY,
    MULTI_DEVICE,
    NETWORK_FAULTS,
    OTA,
    POWER_CUT,
    QUIRKS,
    RESET,
    LineSplitter,
    SimulatedClock,
    Target,
    TargetSetup,
    image_mismatch,
)
from hil.targets.console_provision import QUIRKS_NOTE, ConsoleProvisioner, SilentDeviceError
from hil.targets.options import TargetOptions
from hil.targets.registry import register
from hil.wokwi.options import WokwiOptions
from hil.wokwi.project import Build, button_part, find_build, load_diagram
from hil.wokwi.session import Upload, WokwiSession

GATEWAY_HOST: Final = "host.wokwi.internal"
BOOT_TIMEOUT_S: Final = 60.0  # wall time for a simulated boot (the cloud may queue)
NO_I2S: Final = "Wokwi simulates no I2S, so the toy has no microphone or speaker there"
NOTES: Final = {
    AUDIO_IN: NO_I2S,
    AUDIO_OUT: NO_I2S,
    AUDIO_CAPTURE: NO_I2S,
    POWER_CUT: "a Wokwi simulation has no power switch",
    RESET: "Wokwi's sim:restart is not a power cycle that keeps the flash; use `console: reboot`",
    NETWORK_FAULTS: "the simulated Wi-Fi cannot be broken on purpose",
    IDENTITY: "the simulated board's device id comes from its MAC, like a real board's",
    MULTI_DEVICE: "a run drives one Wokwi simulation; several devices (`devices:`) need one each",
    QUIRKS: QUIRKS_NOTE,
}


def sim_server_url(harness_url: str, public_url: str | None) -> str:
    """The reference server as the simulated board reaches it (public URL or gateway)."""
    if public_url:
        return public_url.rstrip("/")
    parts = urlsplit(harness_url)
    netloc = f"{GATEWAY_HOST}:{parts.port}" if parts.port else GATEWAY_HOST
    return urlunsplit(parts._replace(netloc=netloc))


class _SessionClock(SimulatedClock):
    def __init__(self, session: WokwiSession) -> None:
        self._session = session

    def deadline(self, seconds: float) -> AbstractAsyncContextManager[asyncio.Future[None]]:
        return self._session.deadline(seconds)


@register("wokwi")
class WokwiTarget(Target):
    description = "the ESP-IDF build simulated by Wokwi through wokwi-client (WOKWI_CLI_TOKEN)"
    declared_capabilities = frozenset({OTA, BUTTON})
    capability_notes = NOTES
    options_type = WokwiOptions

    def __init__(self, setup: TargetSetup) -> None:
        super().__init__(setup)
        self.options = WokwiOptions.of(setup.options)
        self._splitter = LineSplitter(self._on_line)
        self._live = False
        self._provisioner = ConsoleProvisioner(
            self._write_raw,
            who="the Wokwi simulation",
            hint=(
                f"check that {self.options.diagram} wires the serial monitor to the board and"
                " that the build is the teddy firmware (docs/wokwi.md)"
            ),
            boot_timeout_s=BOOT_TIMEOUT_S,
        )
        self._session: WokwiSession | None = None
        self._button: str | None = None
        self._upload: Upload | None = None
        self._began = 0.0
        self._stopped = False

    @classmethod
    def unavailable_reason(cls, options: TargetOptions) -> str | None:
        if WokwiOptions.of(options).token:
            return None
        return (
            "needs $WOKWI_CLI_TOKEN: set WOKWI_CLI_TOKEN to a Wokwi CI token from"
            " https://wokwi.com/dashboard/ci (for a local `teddy-hil wokwi-server`, any"
            " token and --wokwi-api-url with the URL it prints)"
        )

    @property
    def simulated_clock(self) -> SimulatedClock | None:
        return _SessionClock(self._session) if self._session is not None else None

    def _on_line(self, line: str) -> None:
        if self._live:
            self.lines.emit(line)
        else:
            self._provisioner.feed(line)

    async def _write_raw(self, line: str) -> None:
        if self._session is None:
            raise HilError("the wokwi target is not started")
        await self._session.write((line + "\n").encode("utf-8"))

    async def start(self) -> None:
        if self._session is not None:
            raise HilError("the wokwi target is already started")
        self._began = time.monotonic()
        options = self.options
        if options.token is None:
            raise HilError(f"the wokwi target {self.unavailable_reason(options)}")
        build = find_build(options.build, elf=options.elf)
        self._check_firmware(build)
        diagram = load_diagram(options.diagram)
        self._button = button_part(diagram)
        self._session = WokwiSession(
            options.token.strip(), url=options.api_url, on_serial=self._splitter.feed
        )
        await self._session.connect()
        self._upload = await self._session.upload(build, json.dumps(diagram))
        await self._session.start(self._upload)
        await self._provision()

    def _check_firmware(self, build: Build) -> None:
        """Skip (not fail, and before any simulated time) a scenario for another image.

        A simulation runs the uploaded build (`image_mismatch`).
        """
        app = build.app()
        if isinstance(app, str):
            raise HilError(f"the Wokwi build {build.origin} cannot boot: {app}")
        why = image_mismatch(
            self.setup.device,
            holder="the Wokwi build",
            version=app.version,
            secure_version=app.secure_version,
            remedy="build",
        )
        if why:
            raise MissingCapabilityError(why)

    async def _provision(self) -> None:
        """Fresh settings (SPEC §9.2), then a reboot whose `boot` the scenario sees first."""
        p = self._provisioner
        if await p.wait_event(("boot",), since=0, within=BOOT_TIMEOUT_S) is None:
            raise SilentDeviceError(p.silent("(simulation start)", what="no boot event after"))
        public = self.options.public_url
        await p.provision(sim_server_url(self.setup.server_url, public), self.setup.device)
        reply = await p.command("reboot")
        backlog = p.seen[reply + 1 :]  # printed after the reply, before this line ran
        self._live = True
        for line in backlog:
            self.lines.emit(line)

    async def write_line(self, line: str) -> None:
        words = line.split()
        if len(words) == 2 and words[0] == "button" and words[1] in ("press", "release"):
            if self._session is None:
                raise HilError("the wokwi target is not started")
            if self._button is None:
                raise HilError("the Wokwi diagram has no push button wired to GPIO0")
            await self._session.set_control(self._button, "pressed", words[1] == "press")
            return
        await self._write_raw(line)

    async def power_cut(self) -> None:
        raise HilError(f"the wokwi target cannot cut power: {NOTES[POWER_CUT]}")

    async def reset(self, reason: str = "power_on") -> None:
        raise HilError(f"the wokwi target cannot be reset from outside: {NOTES[RESET]}")

    async def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        session, self._session = self._session, None
        if session is None:
            return
        nanos = await session.close()
        self._splitter.flush(cut="the simulation ending")
        upload = self._upload
        info = {
            "server": session.url,
            "server_version": session.server_version,
            "upload_bytes": upload.size if upload else 0,
            "upload_s": round(upload.seconds, 3) if upload else None,
            "simulated_s": round(nanos / 1e9, 3),
            "wall_s": round(time.monotonic() - self._began, 3),
            "provisioning_lines": len(self._provisioner.seen),
        }
        self.setup.work_dir.mkdir(parents=True, exist_ok=True)
        (self.setup.work_dir / "wokwi.json").write_text(json.dumps(info, indent=2) + "\n")
        (self.setup.work_dir / "provisioning.log").write_text(
            "".join(line + "\n" for line in self._provisioner.seen), encoding="utf-8"
        )
