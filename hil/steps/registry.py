"""Finding step kinds by name: `register`, `all_kinds`, `get_kind`, `run_step`.

Built-in kinds are the modules `hil.steps.kinds.<name>` for each name in
`hil.steps.kinds.BUILTIN` (in that order: the order of the schema, of the valid-name
lists in load errors and of the README table); each module's `KIND` is registered on
first use. Other distributions add kinds through the `teddy_hil.steps` entry-point
group: each entry point names a `StepKind` object (`my_pkg.beep:KIND`).
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any, Final, TypeVar

from hil.errors import HilError
from hil.scenario.model import Action, Step
from hil.steps.context import StepContext
from hil.steps.kind import StepKind
from hil.steps.kinds import BUILTIN

ENTRY_POINT_GROUP: Final = "teddy_hil.steps"
A = TypeVar("A", bound=Action)

_REGISTRY: dict[str, StepKind[Any]] = {}
_loaded = False


class StepKindError(HilError):
    """A step kind cannot be registered, or a name has no registered kind."""


def register(kind: StepKind[A]) -> StepKind[A]:
    """Make `kind` available in scenarios (and in the schema, load errors and docs)."""
    _load_builtins()
    _add(kind)
    return kind


def unregister(name: str) -> None:
    """Remove a kind registered with `register` (tests, plugins being unloaded)."""
    if name in BUILTIN:
        raise StepKindError(f"step kind {name!r} is built in and cannot be removed")
    _REGISTRY.pop(name, None)


def all_kinds() -> tuple[StepKind[Any], ...]:
    """Every registered kind: the built-ins in BUILTIN order, then others as registered."""
    _load_builtins()
    return tuple(_REGISTRY.values())


def step_names() -> tuple[str, ...]:
    """The valid step names, for schemas and messages."""
    return tuple(kind.name for kind in all_kinds())


def get_kind(name: str) -> StepKind[Any]:
    """The kind registered as `name`; StepKindError lists the valid names."""
    _load_builtins()
    try:
        return _REGISTRY[name]
    except KeyError:
        valid = ", ".join(_REGISTRY)
        raise StepKindError(f"unknown step kind {name!r}; valid steps: {valid}") from None


async def run_step(ctx: StepContext, step: Step) -> None:
    """Run `step` with its kind's handler."""
    kind = get_kind(step.kind)
    if kind.run is None or kind.model is None or not isinstance(step.action, kind.model):
        raise StepKindError(f"{step.label()}: step kind {kind.name!r} cannot run this step")
    await kind.run(ctx, step.action, step)


def _add(kind: StepKind[Any]) -> None:
    existing = _REGISTRY.get(kind.name)
    if existing is not None and existing is not kind:
        raise StepKindError(f"step kind {kind.name!r} is already registered")
    _REGISTRY[kind.name] = kind


def _load_builtins() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True  # before importing: an entry point may call register() itself
    try:
        _import_kinds()
    except BaseException:
        _loaded = False
        raise


def _import_kinds() -> None:
    for name in BUILTIN:
        kind = importlib.import_module(f"{__package__}.kinds.{name}").KIND
        if not isinstance(kind, StepKind) or kind.name != name:
            raise StepKindError(f"hil.steps.kinds.{name}.KIND must be a StepKind named {name!r}")
        _add(kind)
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        kind = entry.load()
        if not isinstance(kind, StepKind):
            raise StepKindError(
                f"entry point {entry.name!r} ({entry.value}) in {ENTRY_POINT_GROUP} "
                "must name a hil.steps.kind.StepKind"
            )
        _add(kind)
