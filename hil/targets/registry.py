"""Finding targets by name: `@register("emulator")`, `get_target`, `all_targets`.

A registry instead of an if/elif factory (the pytest-embedded lesson): a new target is
one module with one decorated class. Built-in targets are imported on first use;
other distributions add theirs through the `teddy_hil.targets` entry-point group
(each entry point names a module that registers its classes when imported).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Final, TypeVar

from hil.errors import UnknownTargetError
from hil.targets.base import Target

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
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return decorate


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
