"""Running one scenario end to end, and many in a row.

Per scenario: check capabilities (skip with a reason before anything starts), start an
embedded server with its own data dir, provision `given:`, put the wire tap in front of
it (the target is given the tap's URL), start the target, run the steps, and always stop
the target, the tap and the server, also after a failure or Ctrl-C. The artifact folder
gets console.log, events.jsonl, server-events.jsonl, wire.jsonl, the audio WAVs, the
device's flash, the server's data dir and result.json. A scenario with `devices:` starts
one target per device against the same server and tap (hil.runner.devices: their files,
watches and stop); each step runs on the device its `on:` names (`StepContext.on`).
"""

from __future__ import annotations

import asyncio
import time
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from hil import expect as ex
from hil.errors import HilError, MissingCapabilityError, StepFailedError
from hil.result import ScenarioResult, Status, StepResult
from hil.runner.devices import DeviceSet, Watches, device_summary, open_consoles
from hil.runner.server_setup import runner_capabilities
from hil.runner.servers import EmbeddedServer, ServerChoice, ServerRun
from hil.runner.watch import PANIC_TAIL_S
from hil.scenario import model as m
from hil.scenario.loader import DEVICE_KEY_VAR
from hil.scenario.values import format_seconds
from hil.steps.context import StepContext
from hil.steps.registry import run_step
from hil.streams import DeviceConsole, ScenarioClock, ServerEventLog, WireLog
from hil.targets.base import ChosenTarget
from server.speech.pipeline import SpeechPipeline

STEP_GRACE_S: Final = 30.0  # beyond a step's own timeout: a hung target, not a slow one
STOP_TIMEOUT_S: Final = 15.0
MAX_EVENT_PROBLEMS: Final = 5


def missing_capability(
    needs: dict[str, str], offered: frozenset[str], notes: Mapping[str, str] | None = None
) -> str | None:
    """The skip reason when something needed is not offered, else None.

    `notes` (the target's `capability_notes`) say why a capability is missing.
    """
    for cap, who in needs.items():
        if cap not in offered:
            have = ", ".join(sorted(offered)) or "nothing"
            note = (notes or {}).get(cap)
            why = f"; {note}" if note else ""
            return f"needs capability {cap!r} ({who}){why}; available: {have}"
    return None


def skip_before_start(
    scenario: m.Scenario, target: ChosenTarget, server: ServerChoice | None = None
) -> str | None:
    """Why `scenario` cannot run on `target` and `server`, known before anything starts."""
    server = server or EmbeddedServer()
    unavailable = target.unavailable_reason()
    if unavailable:
        return f"target {target.name} unavailable: {unavailable}"
    offered = target.offered_capabilities() | server.capabilities() | runner_capabilities()
    notes = {**server.capability_notes(), **target.cls.capability_notes}
    return missing_capability(scenario.needs(), offered, notes) or server.cannot_run(scenario)


def _budget(ctx: StepContext, step: m.Step) -> float:
    """Wall seconds before a step counts as hung: its timeout or what it runs by design."""
    return max(ctx.timeout(step), step.action.budget_s()) * ctx.wall_factor(step) + STEP_GRACE_S


async def _step_watched(ctx: StepContext, step: m.Step, watch: Watches) -> None:
    """The step within its budget; fails at once on a lost device, a crash or a panic."""
    step_task = asyncio.ensure_future(run_step(ctx, step))
    watch_task = asyncio.ensure_future(watch.wait())
    try:
        done, _ = await asyncio.wait(
            {step_task, watch_task}, timeout=_budget(ctx, step), return_when=asyncio.FIRST_COMPLETED
        )
        if step_task in done and watch_task not in done and watch.seen() is not None:
            # A panic printed during the step: its report waits for the backtrace.
            await asyncio.wait({watch_task}, timeout=PANIC_TAIL_S + 1.0)
        if watch_task.done():  # also when the step ended meanwhile: the failure wins
            crash = watch_task.result()
            raise StepFailedError(
                f"{step.label()}: {crash.detail}", reason=f"{crash.reason} ({step.label()})"
            )
        if step_task in done:
            step_task.result()
            return
        raise TimeoutError
    finally:
        for task in (step_task, watch_task):
            task.cancel()
        await asyncio.gather(step_task, watch_task, return_exceptions=True)


async def _run_one_step(
    scenario_ctx: StepContext, step: m.Step, result: StepResult, watch: Watches
) -> None:
    began = time.monotonic()
    ctx = scenario_ctx.on(step)  # the device its `on:` names
    if ctx.wire is not None:
        ex.WIRE_SHOWN.set(ex.WireShown(ctx.wire, step_start=len(ctx.wire.records)))
    result.status = "failed"
    result.clock = ctx.clock(step)
    try:
        await _step_watched(ctx, step, watch)
    except StepFailedError:
        raise
    except TimeoutError:
        text = ex.report(
            headline=f"{step.label()}: did not finish within {format_seconds(_budget(ctx, step))}",
            expected="the step to finish (the target or the server hung)",
            stream=ctx.console,
            start=ctx.console.cursor,
            console=ctx.console,
        )
        raise StepFailedError(text, reason=f"step hung ({step.label()})") from None
    except HilError as exc:
        raise StepFailedError(f"{step.label()}: {exc}", reason=f"{exc} ({step.label()})") from exc
    except Exception as exc:
        what = f"{type(exc).__name__}: {exc}"
        text = f"{step.label()}: {what}\n{traceback.format_exc()}"
        raise StepFailedError(text, reason=f"{what} ({step.label()})") from exc
    finally:
        result.duration_s = round(time.monotonic() - began, 3)
        result.measured = scenario_ctx.measured.get(step.index)
    result.status = "passed"


class ScenarioRun:
    """The state of one scenario run; `execute` fills in `result`."""

    def __init__(
        self,
        scenario: m.Scenario,
        *,
        target: ChosenTarget,
        artifact_dir: Path,
        pipeline: SpeechPipeline,
        server: ServerChoice | None = None,
    ) -> None:
        self.scenario = scenario
        self.target = target
        self.server = server or EmbeddedServer()
        self.dir = artifact_dir
        self.pipeline = pipeline
        self.result = ScenarioResult(
            name=scenario.name,
            path=scenario.path,
            status=Status.SKIPPED,
            artifact_dir=artifact_dir,
            tags=scenario.tags,
            target=target.name,
            steps=[
                StepResult(s.index, s.kind, str(s.loc), "not_run", on=s.on) for s in scenario.steps
            ],
        )

    def skip(self, reason: str) -> None:
        self.result.status, self.result.reason = Status.SKIPPED, reason

    def fail(self, reason: str, detail: str = "") -> None:
        if self.result.status is not Status.FAILED:  # keep the first failure
            self.result.status, self.result.reason = Status.FAILED, reason
            self.result.detail = detail or reason

    async def execute(self) -> ScenarioResult:
        began = time.monotonic()
        try:
            await self._checked_run()
        finally:
            self.result.duration_s = time.monotonic() - began
            self.result.write()
        return self.result

    async def _checked_run(self) -> None:
        reason = skip_before_start(self.scenario, self.target, self.server)
        if reason:
            self.skip(reason)
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        clock = ScenarioClock()
        consoles = open_consoles(self.scenario, self.dir, clock)
        server_log = ServerEventLog(
            label="server", log_path=self.dir / "server-events.jsonl", clock=clock
        )
        wire = WireLog(label="wire", log_path=self.dir / "wire.jsonl", clock=clock)
        for stream in (server_log, wire):
            stream.bind(asyncio.get_running_loop())
        try:
            await self._with_server(consoles, server_log, wire)
        except StepFailedError as exc:
            self.fail(exc.reason, str(exc))
        except HilError as exc:  # says what to check in one line; the traceback is in error.txt
            (self.dir / "error.txt").write_text(traceback.format_exc(), encoding="utf-8")
            self.fail(f"set-up failed: {exc}")
        except Exception as exc:
            (self.dir / "error.txt").write_text(traceback.format_exc(), encoding="utf-8")
            self.fail(f"set-up failed: {type(exc).__name__}: {exc}", traceback.format_exc())
        finally:
            records = (record.data for record in wire.records)
            self.result.devices = device_summary(consoles, self.result.variables, records)
            for console in consoles.values():
                console.close()
            server_log.close()
            wire.close()

    async def _with_server(
        self, consoles: dict[str, DeviceConsole], server_log: ServerEventLog, wire: WireLog
    ) -> None:
        server = await self.server.start(
            self.scenario, data_dir=self.dir / "server-data", pipeline=self.pipeline, log=server_log
        )
        devices = DeviceSet()
        try:
            await server.start_tap(wire)
            devices.build(
                self.scenario,
                self.target,
                consoles,
                folder=self.dir,
                server_url=server.device_url,
                defaults=server.device_defaults(),
            )
            await self._with_target(devices, server, server_log, wire)
        finally:
            await self._cleanup(devices, server)

    def _missing(self, devices: DeviceSet) -> str | None:
        offered = devices.capabilities() | self.server.capabilities() | runner_capabilities()
        notes = {**self.server.capability_notes(), **devices.first.target.capability_notes}
        return missing_capability(self.scenario.needs(), offered, notes)

    async def _with_target(
        self,
        devices: DeviceSet,
        server: ServerRun,
        server_log: ServerEventLog,
        wire: WireLog,
    ) -> None:
        missing = self._missing(devices)
        if missing:
            self.skip(missing)
            return
        first = devices.first
        ctx = StepContext(
            self.scenario,
            first.target,
            first.console,
            server.server_side(),
            wire=wire,
            devices=devices.devices,
            device=first.name,
            tap=server.tap,
            artifacts=self.dir,
        )
        ctx.variables.update(self._initial_variables(devices, server))
        self.result.variables = ctx.variables
        try:
            await devices.start()
        except MissingCapabilityError as exc:  # found only once the device answered
            self.skip(str(exc))
            return
        # Some targets learn what they offer from the device itself (a serial board's
        # `wiring:` line): check again before the first step.
        missing = self._missing(devices)
        if missing:
            self.skip(missing)
            return
        watch = devices.watches(self.scenario, server_log=server_log, wire=wire)
        for step, step_result in zip(self.scenario.steps, self.result.steps, strict=True):
            await _run_one_step(ctx, step, step_result, watch)
        crash = watch.seen()  # printed after the last step's match
        if crash is not None:
            raise StepFailedError(f"after the last step: {crash.detail}", reason=crash.reason)
        self.result.status = Status.PASSED
        for device in devices.devices.values():
            self._check_event_lines(device.console, device.name if devices.several else None)

    def _initial_variables(self, devices: DeviceSet, server: ServerRun) -> dict[str, object]:
        variables: dict[str, object] = dict(self.scenario.variables)
        first = devices.first.target.device_vars()
        variables.update({f"device.{k}": v for k, v in first.items()})
        if isinstance(first.get("device_id"), str):  # ids compare case-insensitively (§1.3)
            variables[DEVICE_KEY_VAR] = str(first["device_id"]).lower()
        for name, device in devices.devices.items():
            values = device.target.device_vars()
            variables.update({f"devices.{name}.{k}": v for k, v in values.items()})
        variables.update(
            {
                # What the device dials (the tap), and the server behind it.
                "server.url": server.device_url,
                "server.ws_url": server.device_ws_url,
                "server.direct_url": server.base_url,
                "server.direct_ws_url": server.ws_url,
                "scenario": self.scenario.name,
                "artifacts": str(self.dir),
            }
        )
        return variables

    def _check_event_lines(self, console: DeviceConsole, device: str | None) -> None:
        """SPEC §8.1: a malformed or unknown event line is a defect of the target."""
        bad = console.problems()
        if not bad or not self.scenario.strict_events:
            return
        log = console.log_path.name
        who = f"device {device}: " if device else ""
        lines = [f"  {log} line {r.index + 1}: {r.problem}: {r.text!r}" for r in bad]
        detail = "\n".join(
            [
                f"{who}the target printed {len(bad)} invalid event line(s) (SPEC §8.1; "
                "set strict_events: false to only log them):",
                *lines[:MAX_EVENT_PROBLEMS],
            ]
        )
        self.fail(f"{who}{len(bad)} invalid event line(s), first: {bad[0].problem}", detail)

    async def _cleanup(self, devices: DeviceSet, server: ServerRun) -> None:
        for failure in await devices.stop(STOP_TIMEOUT_S):
            self.fail(failure)
        try:
            await server.stop()
        except Exception as exc:
            self.fail(f"server stop failed: {type(exc).__name__}: {exc}")


async def run_scenario(
    scenario: m.Scenario,
    *,
    target: ChosenTarget,
    artifact_dir: Path,
    pipeline: SpeechPipeline,
    server: ServerChoice | None = None,
) -> ScenarioResult:
    """Run `scenario` on `target` (its class and options) against `server` (default: a fresh
    embedded reference server); the result is also in result.json."""
    run = ScenarioRun(
        scenario, target=target, artifact_dir=artifact_dir, pipeline=pipeline, server=server
    )
    return await run.execute()
