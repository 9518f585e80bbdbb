"""The edges' side of target options: flags in, environment defaults, a `ChosenTarget` out.

`teddy-hil` (argparse) and the pytest plugin both offer every registered target's option
flags, grouped by options type, and turn what was given into the chosen target's options
here, without an if/elif per target: `add_arguments` declares the flags, `choose_from`
checks that no other target's flag was given and builds the options from the flags and,
for what is not given, the environment mapping the edge passes in. These functions are
the only readers of an environment, and only of the one handed to them.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Collection, Mapping

from hil.errors import HilError
from hil.targets.base import ChosenTarget
from hil.targets.options import (
    OptionSpec,
    OptionsT,
    TargetOptions,
    build_options,
    help_of,
    option_fields,
)
from hil.targets.registry import get_target, options_types

# The value a flag was given, by its `OptionSpec.dest` (None: not given).
Lookup = Callable[[str], object]


def option_groups() -> list[tuple[str, type[TargetOptions]]]:
    """(title, options type) of every registered target that has option flags."""
    groups = []
    for kind, names in options_types().items():
        if any(spec.flag for _, spec in option_fields(kind)):
            groups.append((f"options of target {', '.join(names)}", kind))
    return groups


def add_arguments(
    parser: argparse._ActionsContainer,
    kind: type[TargetOptions],
    *,
    only: Collection[str] | None = None,
) -> None:
    """Add the flags of `kind` (or of the fields in `only`) to an argparse parser/group."""
    for name, spec in option_fields(kind):
        if spec.flag is None or (only is not None and name not in only):
            continue
        parser.add_argument(
            spec.flag, dest=spec.dest, default=None, metavar=spec.metavar, help=help_of(spec)
        )


def given(kind: type[TargetOptions], lookup: Lookup) -> dict[str, str | None]:
    """The flag text given for each option of `kind` (None where its flag was not given)."""
    values: dict[str, str | None] = {}
    for name, spec in option_fields(kind):
        value = lookup(spec.dest) if spec.flag is not None else None
        values[name] = None if value is None else str(value)
    return values


def options_from(kind: type[OptionsT], lookup: Lookup, env: Mapping[str, str]) -> OptionsT:
    """Options of `kind` from the given flags, and `env` for the ones not given."""
    return build_options(kind, given(kind, lookup), env)


def choose_from(name: str, lookup: Lookup, env: Mapping[str, str]) -> ChosenTarget:
    """Target `name` with its options; HilError when a flag of another target was given."""
    cls = get_target(name)
    for kind, names in options_types().items():
        if kind is cls.options_type:
            continue
        stray = [spec.flag for _, spec in option_fields(kind) if spec.flag and lookup(spec.dest)]
        if stray:
            raise HilError(
                f"{', '.join(stray)}: option of target {', '.join(names)}, not of {name};"
                f" drop it or pass --target {names[0]}"
            )
    return ChosenTarget(cls, options_from(cls.options_type, lookup, env))


def environment_only() -> list[tuple[str, OptionSpec]]:
    """(target names, spec) of options set only through the environment (a token)."""
    found = []
    for kind, names in options_types().items():
        for _, spec in option_fields(kind):
            if spec.flag is None:
                found.append((", ".join(names), spec))
    return found


def environment_help() -> str:
    """One line per environment variable any target's options read (for --help)."""
    lines = []
    for kind, names in options_types().items():
        for _, spec in option_fields(kind):
            if spec.env is None:
                continue
            what = f"default of {spec.flag}" if spec.flag else f"{spec.help} (no flag)"
            lines.append(f"  {spec.env:<26} {', '.join(names)}: {what}")
    return "\n".join(lines)
