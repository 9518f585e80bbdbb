"""Finding targets by name: `@register("emulator")`, `get_target`, `all_targets`.

A registry instead of an if/elif factory (the pytest-embedded lesson): a new target is
one module with one decorated class. Built-in targets are imported on first use;
other distributions add theirs through the `teddy_hil.targets` entry-point group
(each entry point names a module that registers its classes when imported).

Every target's options type (`Target.options_type`) is offered as flags by the CLI and
the pytest plugin (`options_types`), so two targets may not claim the same flag: the
second registration fails and names both.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Final, TypeVar

from hil.errors import UnknownTargetError
from hil.targets.base import ChosenTarget, Target
from hil.targets.options import TargetOptions, flags_of

ENTRY_POINT_GROUP: Final = "teddy_hil.targets"
_BUILTIN_MODULES: Final = (
    "hil.targets.emulator",
    "hil.targets.firmware_host",
    "hil.targets.serial_target",
    "hil.targets.wokwi_target",
)
_REGISTRY: dict[str, type[Target]] = {}
_loaded = False

T = TypeVar("T", bound=type[Target])


def register(name: str) -> Callable[[T], T]:
    """Class decorator: make the target available as `--target <name>`."""

    def decorate(cls: T) -> T:
        existing = _REGISTRY.get(name)
        if existing is not None and existing is not cls:
            raise ValueError(f"target {name!r} is already registered by {existing.__qualname__}")
        _check_flags(name, cls.options_type)
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return decorate


def _check_flags(name: str, kind: type[TargetOptions]) -> None:
    mine = set(flags_of(kind))
    for other_name, other in _REGISTRY.items():
        if other_name == name or other.options_type is kind:
            continue
        shared = mine & set(flags_of(other.options_type))
        if shared:
            raise ValueError(
                f"target {name!r}: {kind.__name__} declares {', '.join(sorted(shared))},"
                f" already a flag of target {other_name!r} ({other.options_type.__name__});"
                " give the option another flag"
            )


def _load_builtins() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for module in _BUILTIN_MODULES:
        importlib.import_module(module)
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        entry.load()


def get_target(name: str) -> type[Target]:
    """The target class registered as `name`; UnknownTargetError lists the valid names."""
    _load_builtins()
    try:
        return _REGISTRY[name]
    except KeyError:
        valid = ", ".join(sorted(_REGISTRY)) or "(none)"
        raise UnknownTargetError(f"unknown target {name!r}; valid targets: {valid}") from None


def all_targets() -> dict[str, type[Target]]:
    """Every registered target by name, sorted."""
    _load_builtins()
    return dict(sorted(_REGISTRY.items()))


def choose(name: str, options: TargetOptions | None = None) -> ChosenTarget:
    """The target registered as `name` with `options` (default: its options' defaults)."""
    return ChosenTarget.of(get_target(name), options)


def options_types() -> dict[type[TargetOptions], list[str]]:
    """Every options type of a registered target, with the names of the targets using it."""
    kinds: dict[type[TargetOptions], list[str]] = {}
    for name, cls in all_targets().items():
        kinds.setdefault(cls.options_type, []).append(name)
    return kinds
