"""`include:` steps: reusable step groups from files such as `scenarios/common/*.yaml`.

A step group file has `version: 1`, an optional `description`, `params` (name ->
default; `null` = must be given) and `steps`. `include: {file, with: {param: value}}`
replaces `${param}` inside the group when it is included; every other `${var}` stays
for run time. The file is looked up next to the including file, then in each parent
folder, so `include: common/boot_and_claim.yaml` works from any `scenarios/<area>/`.
Cycles are reported with the whole chain. An include with `on: <device>` sends every
included step that does not say `on:` itself to that device.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from hil.errors import Problem, ScenarioLoadError, display_path
from hil.scenario.check import doc_problem, schema_problems
from hil.scenario.model import Loc
from hil.scenario.schema import include_schema
from hil.scenario.values import substitute_some
from hil.scenario.yamldoc import DataPath, YamlDoc, load_yaml
from hil.steps.kinds.include import KIND as INCLUDE

MAX_INCLUDE_DEPTH: Final = 16


@dataclass(frozen=True)
class OnDevice:
    """A step's `on:` value and where it was written (the step's own key or its include's)."""

    name: str
    doc: YamlDoc
    path: DataPath


@dataclass(frozen=True)
class RawStep:
    """One step mapping as written, with the document and data path it came from."""

    value: dict[str, object]
    doc: YamlDoc
    path: DataPath
    loc: Loc
    outer_on: OnDevice | None = None  # the `on:` of the include that pulled it in

    def on(self) -> OnDevice | None:
        """The device the step acts on: its own `on:`, else its include's, else None."""
        own = self.value.get("on")
        if isinstance(own, str):
            return OnDevice(own, self.doc, (*self.path, "on"))
        return self.outer_on


def find_include(name: str, *, origin: Path) -> tuple[Path | None, list[Path]]:
    """The file `name` refers to from `origin`, and every place that was tried."""
    candidate = Path(name)
    if candidate.is_absolute():
        return (candidate if candidate.is_file() else None), [candidate]
    tried: list[Path] = []
    for folder in (origin.parent, *origin.parent.parents):
        path = folder / candidate
        tried.append(path)
        if path.is_file():
            return path, tried
    return None, tried


def expand_steps(
    doc: YamlDoc,
    *,
    via: tuple[tuple[Path, int], ...] = (),
    stack: tuple[Path, ...] = (),
    problems: list[Problem],
    skip: frozenset[DataPath] = frozenset(),
    on: OnDevice | None = None,
) -> list[RawStep]:
    """The steps of `doc` with every include replaced by the included steps.

    Steps whose path is in `skip` (the schema already reported them) are left out, so
    the other steps can still be checked in the same round.
    """
    assert isinstance(doc.data, dict)
    steps = doc.data.get("steps")
    result: list[RawStep] = []
    stack = stack or (doc.path.resolve(),)
    for index, value in enumerate(steps if isinstance(steps, list) else []):
        if not isinstance(value, dict):
            continue  # the schema has reported it
        path: DataPath = ("steps", index)
        if path in skip:
            continue
        line = doc.line_of(path)
        raw = RawStep(value, doc, path, Loc(doc.path, line, via), outer_on=on)
        if INCLUDE.name not in value:
            result.append(raw)
            continue
        included = _load_group(doc, value, path=path, stack=stack, problems=problems)
        if included is not None:
            result += expand_steps(
                included,
                via=(*via, (doc.path, line)),
                stack=(*stack, included.path.resolve()),
                problems=problems,
                on=raw.on(),
            )
    return result


def _load_group(
    doc: YamlDoc,
    step: dict[str, object],
    *,
    path: DataPath,
    stack: Sequence[Path],
    problems: list[Problem],
) -> YamlDoc | None:
    spec = step[INCLUDE.name]
    name = spec if isinstance(spec, str) else spec.get("file") if isinstance(spec, dict) else None
    given = spec.get("with") if isinstance(spec, dict) else None
    at = doc.where((*path, INCLUDE.name))
    line = doc.line_of((*path, INCLUDE.name))
    if not isinstance(name, str):
        return None  # the schema has reported it
    found, tried = find_include(name, origin=doc.path)
    if found is None:
        looked = ", ".join(display_path(p) for p in tried)
        problems.append(
            doc_problem(doc, line, f"include {name!r} at {at}: no such file; looked in: {looked}")
        )
        return None
    if found.resolve() in stack or len(stack) >= MAX_INCLUDE_DEPTH:
        chain = " -> ".join(display_path(p) for p in (*stack, found.resolve()))
        problems.append(doc_problem(doc, line, f"include cycle at {at}: {chain}"))
        return None
    try:
        group = load_yaml(found)
    except ScenarioLoadError as exc:
        problems += exc.problems
        return None
    data = group.data
    if not isinstance(data, dict) or not isinstance(data.get("params") or {}, dict):
        problems += schema_problems(group, include_schema())
        return None
    params = _params(
        group,
        given if isinstance(given, dict) else {},
        at=at,
        line=line,
        doc=doc,
        problems=problems,
    )
    if params is None:
        return None
    # Parameters are filled in before the schema check, so `timeout: ${t}` is checked
    # with the value it gets at this include site.
    data["steps"] = substitute_some(data.get("steps"), params)
    found_problems = schema_problems(group, include_schema())
    if found_problems:
        problems += found_problems
        return None
    return group


def _params(
    group: YamlDoc,
    given: dict[object, object],
    *,
    at: str,
    line: int,
    doc: YamlDoc,
    problems: list[Problem],
) -> dict[str, object] | None:
    assert isinstance(group.data, dict)
    declared = group.data.get("params") or {}
    assert isinstance(declared, dict)
    unknown = [str(k) for k in given if k not in declared]
    missing = [str(k) for k, v in declared.items() if v is None and k not in given]
    where = display_path(group.path)
    if unknown:
        valid = ", ".join(str(k) for k in declared) or "(it declares none)"
        problems.append(
            doc_problem(
                doc,
                line,
                f"include at {at}: {where} has no parameter "
                f"{', '.join(unknown)}; its params: {valid}",
            )
        )
    if missing:
        problems.append(
            doc_problem(
                doc,
                line,
                f"include at {at}: {where} needs {', '.join(missing)} (give them under with:)",
            )
        )
    if unknown or missing:
        return None
    return {str(k): given.get(k, v) for k, v in declared.items()}
