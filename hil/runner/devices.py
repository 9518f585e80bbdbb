"""The devices of one scenario run: their files, targets and watches (`devices:`).

A scenario has one device (`device:`, named `dut`) or several (`devices:`). Each gets its
own target instance of the chosen target class, all given the same server URL (the
scenario's wire tap), each with its own work dir, audio dir, console log and events:

| | one device | several (`devices: {a: ..., b: ...}`) |
|---|---|---|
| work dir (flash, ...) | `device/` | `device-a/`, `device-b/` |
| audio | `audio/` | `audio-a/`, `audio-b/` |
| console | `console.log`, `events.jsonl` | `console-a.log`, `events-a.jsonl`, ... |

Each device has its own `DeviceWatch` (a lost device, a crash, a panic); `Watches` races
them all, so a crash of any device fails the step in progress, its report naming the
device. Run-wide rules (`hil.rules`) ride on the first device's watch; each further
device's console is watched for the `forbid:` device events too.

All devices share the wire tap; `connection_owners` tells which device opened each
connection of wire.jsonl by the `device_id` its requests carry (result.json `devices`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from hil.errors import HilError
from hil.rules.watch import RuleWatch
from hil.runner.watch import DeviceWatch
from hil.scenario import model as m
from hil.steps.context import Device
from hil.streams import DeviceConsole, ScenarioClock, Stream
from hil.tap.pattern import view
from hil.tap.records import PROBE_HEADER
from hil.targets.base import ChosenTarget, Target, TargetSetup
from hil.targets.crash import Crash


@dataclass(frozen=True)
class DeviceFiles:
    """Where one device's files go inside the scenario's artifact folder."""

    work_dir: Path
    audio_dir: Path
    console_log: Path
    events: Path


def device_files(folder: Path, name: str, *, several: bool) -> DeviceFiles:
    """The single-device layout, or the one with `-<name>` suffixes (module docstring)."""
    if not several:
        return DeviceFiles(
            folder / "device", folder / "audio", folder / "console.log", folder / "events.jsonl"
        )
    return DeviceFiles(
        folder / f"device-{name}",
        folder / f"audio-{name}",
        folder / f"console-{name}.log",
        folder / f"events-{name}.jsonl",
    )


def open_consoles(
    scenario: m.Scenario, folder: Path, clock: ScenarioClock
) -> dict[str, DeviceConsole]:
    """One console per device, bound to the running loop (close them with `close`)."""
    settings = scenario.device_settings()
    consoles = {}
    for name in settings:
        files = device_files(folder, name, several=len(settings) > 1)
        console = DeviceConsole(log_path=files.console_log, events_path=files.events, clock=clock)
        console.bind(asyncio.get_running_loop())
        consoles[name] = console
    return consoles


@dataclass
class DeviceSet:
    """The scenario's devices by name (the first is the one steps without `on:` use)."""

    devices: dict[str, Device] = field(default_factory=dict)

    @property
    def first(self) -> Device:
        return next(iter(self.devices.values()))

    @property
    def several(self) -> bool:
        return len(self.devices) > 1

    def targets(self) -> list[Target]:
        return [device.target for device in self.devices.values()]

    def build(
        self,
        scenario: m.Scenario,
        chosen: ChosenTarget,
        consoles: Mapping[str, DeviceConsole],
        *,
        folder: Path,
        server_url: str,
        defaults: Mapping[str, object] | None = None,
    ) -> None:
        """One target per device, each subscribed to its console (added as each is built,
        so the ones built before a failing one are still stopped). `defaults` are settings
        the server needs (an identity it knows) where the scenario sets none."""
        settings = scenario.device_settings()
        if defaults and len(settings) == 1:
            settings = {name: {**defaults, **device} for name, device in settings.items()}
        for name, device in settings.items():
            files = device_files(folder, name, several=len(settings) > 1)
            setup = TargetSetup(
                server_url=server_url,
                work_dir=files.work_dir,
                audio_dir=files.audio_dir,
                device=device,
                options=chosen.options,
            )
            try:
                target = chosen.cls(setup)
            except HilError as exc:  # a setting the target refuses: say whose
                if len(settings) == 1:
                    raise
                raise HilError(f"devices.{name}: {exc}") from exc
            target.lines.subscribe(consoles[name].add_line)
            self.devices[name] = Device(name, target, consoles[name])

    def capabilities(self) -> frozenset[str]:
        """What every device's target offers (a scenario may use any device for any step)."""
        offered = [device.target.capabilities for device in self.devices.values()]
        return frozenset.intersection(*offered) if offered else frozenset()

    async def start(self) -> None:
        """Power every device on at once (they boot side by side, as on a bench)."""
        await asyncio.gather(*(target.start() for target in self.targets()))

    async def stop(self, limit_s: float) -> list[str]:
        """Stop every target (all of them, each within `limit_s`); the failures, as text."""
        results = await asyncio.gather(
            *(asyncio.wait_for(target.stop(), limit_s) for target in self.targets()),
            return_exceptions=True,
        )
        failures = []
        for name, outcome in zip(self.devices, results, strict=True):
            if isinstance(outcome, BaseException):
                who = f" ({name})" if self.several else ""
                failures.append(f"target.stop(){who} failed: {type(outcome).__name__}: {outcome}")
        return failures

    def watches(self, scenario: m.Scenario, *, server_log: Stream, wire: Stream | None) -> Watches:
        """A `DeviceWatch` per device; the run-wide rules ride on the first one's."""
        panic_expected = scenario.panic == m.PANIC_EXPECTED
        watched: dict[str, DeviceWatch] = {}
        for index, device in enumerate(self.devices.values()):
            rules = RuleWatch(
                scenario,
                console=device.console,
                server_log=server_log,
                wire=wire if index == 0 else None,  # the wire and invariants are judged once
            )
            watched[device.name] = DeviceWatch(
                device.target, device.console, panic_expected=panic_expected, rules=rules
            )
        return Watches(watched, named=self.several)


class Watches:
    """The devices' watches raced as one: the first failure of any, naming its device."""

    def __init__(self, watches: Mapping[str, DeviceWatch], *, named: bool) -> None:
        self._watches = dict(watches)
        self._named = named

    async def wait(self) -> Crash:
        tasks = {asyncio.ensure_future(w.wait()): name for name, w in self._watches.items()}
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            task = done.pop()
            return self._name(tasks[task], task.result())
        finally:
            for task in tasks:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*tasks, return_exceptions=True)

    def seen(self) -> Crash | None:
        for name, watch in self._watches.items():
            crash = watch.seen()
            if crash is not None:
                return self._name(name, crash)
        return None

    def _name(self, name: str, crash: Crash) -> Crash:
        if not self._named:
            return crash
        who = f"device {name}: "
        return Crash(reason=who + crash.reason, detail=who + crash.detail)


def _claimed_id(record: Mapping[str, object]) -> str | None:
    """The device_id a device's request names: its query's (chat) or its JSON body's (claim)."""
    seen = view(record)
    headers = seen.get("headers")
    if isinstance(headers, Mapping) and PROBE_HEADER in headers:
        return None  # the harness's own `http` probe, not a device
    query = seen.get("query")
    if isinstance(query, Mapping) and isinstance(query.get("device_id"), str):
        return str(query["device_id"])
    body = seen.get("body")
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return None
    if isinstance(body, Mapping) and isinstance(body.get("device_id"), str):
        return str(body["device_id"])
    return None


def connection_owners(
    records: Iterable[Mapping[str, object]], ids: Mapping[str, str]
) -> dict[str, list[int]]:
    """Device name -> the wire connections (`conn`) its requests came on.

    `ids` is each device's device_id. A connection counts for the device whose id (SPEC
    §1.3: case-insensitive) one of its requests names; connections of devices that share
    an id, and the harness's probes, are left out rather than guessed.
    """
    owner_of_id: dict[str, str | None] = {}
    for name, device_id in ids.items():
        key = device_id.lower()
        owner_of_id[key] = None if key in owner_of_id else name  # a shared id: nobody's
    owners: dict[str, list[int]] = {name: [] for name in ids}
    for record in records:
        if record.get("kind") != "request" or not isinstance(record.get("conn"), int):
            continue
        named = _claimed_id(record)
        owner = owner_of_id.get(named.lower()) if named else None
        conn = record["conn"]
        if owner is not None and conn not in owners[owner]:
            assert isinstance(conn, int)
            owners[owner].append(conn)
    return {name: sorted(conns) for name, conns in owners.items()}


def device_summary(
    consoles: Mapping[str, DeviceConsole],
    variables: Mapping[str, object],
    records: Iterable[Mapping[str, object]],
) -> dict[str, dict[str, object]]:
    """result.json's `devices`: each device's id, console log and wire connections.

    Empty for a one-device scenario, and before the targets were built (no variables).
    """
    ids = {name: variables.get(f"devices.{name}.device_id") for name in consoles}
    if len(consoles) < 2 or not all(isinstance(v, str) for v in ids.values()):
        return {}
    known = {name: str(device_id) for name, device_id in ids.items()}
    conns = connection_owners(records, known)
    return {
        name: {
            "device_id": known[name],
            "console": console.log_path.name,
            "connections": conns[name],
        }
        for name, console in consoles.items()
    }
