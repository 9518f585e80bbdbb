"""Loading scenario files: YAML -> schema check -> includes -> typed `Scenario`.

`load_scenario` raises `ScenarioLoadError` with every problem it can find in one go
(schema problems first; if the shape is right, step and variable problems), so a
scenario author fixes a file in one round. `validate_paths` does the same for many
files and never stops at the first bad one (`teddy-hil validate`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Final

from hil.errors import Problem, ScenarioLoadError
from hil.rules.forbid import build_forbid
from hil.scenario import model as m
from hil.scenario.build import build_step
from hil.scenario.check import schema_check, schema_problems
from hil.scenario.devices import declared_devices, device_names, device_variables, on_problems
from hil.scenario.include import RawStep, expand_steps
from hil.scenario.release import release_spec
from hil.scenario.schema import DEVICE_KEYS, include_schema, scenario_schema
from hil.scenario.values import parse_duration, substitute_some, template_names
from hil.scenario.yamldoc import YamlDoc, load_yaml
from hil.steps.build import At, InvalidStepError
from protocol.errors import ProvisioningError
from protocol.provision import parse_provisioning

COMMON_DIR: Final = "common"  # step groups live in scenarios/common/, never run alone
# `server.url` is what the device dials (the wire tap); `direct_` names the server behind it.
SERVER_VARS: Final = ("server.url", "server.ws_url", "server.direct_url", "server.direct_ws_url")
# The device id's canonical form (SPEC §1.3: lower-case), as tokens and server events carry it.
DEVICE_KEY_VAR: Final = "device.device_key"
BUILTIN_VARS: Final = ("scenario", "artifacts")


def is_step_group(path: Path) -> bool:
    return COMMON_DIR in path.parts[:-1]


def discover(paths: Sequence[Path], *, groups: bool = False) -> list[Path]:
    """Scenario files under `paths` (folders searched for *.yaml / *.yml), sorted.

    Files inside a `common/` folder are step groups: left out unless `groups` is set.
    A path given explicitly as a file is always kept.
    """
    found: set[Path] = set()
    for path in paths:
        if path.is_dir():
            for child in (*path.rglob("*.yaml"), *path.rglob("*.yml")):
                if groups or not is_step_group(child.relative_to(path)):
                    found.add(child)
        else:
            found.add(path)
    return sorted(found)


def load_scenario(path: Path) -> m.Scenario:
    doc = load_yaml(path)
    problems, bad = schema_check(doc, scenario_schema())
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("steps"), list):
        raise ScenarioLoadError(problems)
    # Steps the schema accepted are still built, so one round reports every problem.
    skip = frozenset(p[:2] for p in bad if len(p) >= 2 and p[0] == "steps")
    raw_steps = expand_steps(doc, problems=problems, skip=skip)
    built = _build_steps(raw_steps, problems)
    devices = declared_devices(doc, data, problems)
    problems += on_problems(raw_steps, device_names(devices))
    problems += variable_problems(data.get("vars"), built, devices=device_names(devices))
    if problems:
        raise ScenarioLoadError(problems)
    given = _given(doc, data.get("given") or {}, problems)
    forbid = _forbid(doc, data.get("forbid") or [], problems)
    server = _server(data.get("server") or {})
    if server.quirks and server.profile != "development":
        # The server refuses to start so (server.settings); say it at load, with the line.
        where = doc.where(("server", "quirks"))
        message = f"server.quirks at {where} need profile development (SPEC Appendix B)"
        problems.append(doc.problem(("server", "quirks"), message))
    if problems:
        raise ScenarioLoadError(problems)
    return m.Scenario(
        path=path,
        name=data["name"],
        description=data.get("description", ""),
        steps=tuple(step for step, _raw in built),
        tags=tuple(data.get("tags", ())),
        spec=tuple(data.get("spec", ())),
        requires=frozenset(data.get("requires", ())),
        timeout=parse_duration(data.get("timeout", m.DEFAULT_TIMEOUT_S)),
        clock=str(data.get("clock", m.WALL)),
        strict_events=data.get("strict_events", True),
        panic=str(data.get("panic", m.PANIC_FAIL)),
        forbid=forbid,
        exempt={str(k): str(v) for k, v in (data.get("exempt") or {}).items()},
        server=server,
        given=given,
        device=next(iter(devices.values())) if devices else dict(data.get("device") or {}),
        variables=dict(data.get("vars") or {}),
        devices=devices,
    )


def load_step_group(path: Path) -> list[m.Step]:
    """Check a step group file (`scenarios/common/*.yaml`) on its own."""
    doc = load_yaml(path)
    if isinstance(doc.data, dict) and isinstance(doc.data.get("params"), dict):
        defaults = {k: v for k, v in doc.data["params"].items() if v is not None}
        doc.data["steps"] = substitute_some(doc.data.get("steps"), defaults)
    problems = schema_problems(doc, include_schema())
    if problems:
        raise ScenarioLoadError(problems)
    built = _build_steps(expand_steps(doc, problems=problems), problems)
    if problems:
        raise ScenarioLoadError(problems)
    return [step for step, _raw in built]


def validate_paths(paths: Iterable[Path]) -> list[Problem]:
    """Every problem in every file; an empty list means all files are valid."""
    problems: list[Problem] = []
    for path in paths:
        try:
            if is_step_group(path):
                load_step_group(path)
            else:
                load_scenario(path)
        except ScenarioLoadError as exc:
            problems += exc.problems
    return problems


def _build_steps(raw_steps: list[RawStep], problems: list[Problem]) -> list[tuple[m.Step, RawStep]]:
    steps: list[tuple[m.Step, RawStep]] = []
    for index, raw in enumerate(raw_steps, start=1):
        built = build_step(raw, index)
        if isinstance(built, Problem):
            problems.append(built)
        else:
            steps.append((built, raw))
    return steps


def _server(data: dict[str, Any]) -> m.ServerSpec:
    def seconds(key: str) -> int | None:
        return max(1, round(parse_duration(data[key]))) if key in data else None

    limits = data.get("rate_limits")
    rate = None
    if limits is not None:
        rate = (
            limits.get("per_device", 10),
            limits.get("per_ip", 120),
            parse_duration(limits.get("window", 60)),
        )
    return m.ServerSpec(
        profile=data.get("profile", "development"),
        access_ttl_s=seconds("access_ttl"),
        refresh_ttl_s=seconds("refresh_ttl"),
        heartbeat_interval_s=seconds("heartbeat_interval"),
        keep_utterance_audio=data.get("keep_utterance_audio"),
        chat_path=data.get("chat_path"),
        rate_limits=rate,
        quirks=tuple(data.get("quirks", ())),
    )


def _given(doc: YamlDoc, data: dict[str, Any], problems: list[Problem]) -> m.Given:
    source = f"{doc.where(('given',))}: given"
    try:
        plan = parse_provisioning(
            {k: data[k] for k in ("devices", "children", "config") if k in data}, source=source
        )
    except ProvisioningError as exc:
        problems.append(doc.problem(("given",), str(exc)))
        return m.Given()
    releases = []
    for index, value in enumerate(data.get("releases", [])):
        try:
            releases.append(release_spec(value, At(doc, ("given", "releases", index))))
        except InvalidStepError as exc:
            problems.append(doc.problem(("given", "releases", index, *exc.sub), str(exc)))
    return m.Given(provisioning=plan, releases=tuple(releases))


def _forbid(doc: YamlDoc, items: list[Any], problems: list[Problem]) -> tuple[m.Forbid, ...]:
    built = []
    for index, value in enumerate(items):
        try:
            built.append(build_forbid(value, At(doc, ("forbid", index))))
        except InvalidStepError as exc:
            problems.append(doc.problem(("forbid", index, *exc.sub), str(exc)))
    return tuple(built)


def variable_problems(
    variables: object,
    steps: list[tuple[m.Step, RawStep]],
    *,
    devices: tuple[str, ...] = (m.DEFAULT_DEVICE,),
) -> list[Problem]:
    """`${name}`s used before anything defines them (checked in step order)."""
    known = set(variables) if isinstance(variables, dict) else set()
    scalars = [key for key in DEVICE_KEYS if key != "timing"]  # scalars only
    known |= set(SERVER_VARS) | set(BUILTIN_VARS) | device_variables(devices, scalars)
    known.add(DEVICE_KEY_VAR)
    problems: list[Problem] = []
    for step, raw in steps:
        for name in template_names(raw.value.get(step.kind)):
            if name not in known:
                listed = ", ".join(sorted(known))
                problems.append(
                    Problem(
                        raw.doc.path,
                        step.loc.line,
                        f"unknown variable ${{{name}}} at {step.loc}: no capture, vars entry "
                        f"or setting defines it before this step; defined: {listed}",
                    )
                )
        known |= set(step.action.captures())
    return problems
