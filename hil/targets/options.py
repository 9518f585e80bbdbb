"""Typed target options: the frozen dataclass each target declares, and how edges fill it.

A target's options (a serial board's port, the Wokwi build, the host firmware binary) are
one frozen dataclass per target, `Target.options_type`, built and checked once and then
carried by `ChosenTarget` (`RunRequest`, `run_scenario`) and `TargetSetup` down to the
target. Nothing below the edges reads the environment, so one process can run two serial
targets on two ports.

Each field is declared as `field(default=..., metadata=option(...))`: the `OptionSpec` in
its metadata names the flag that sets it, the environment variable that gives its default
and the help text. The edges, `teddy-hil` and the pytest plugin (through
`hil.targets.edge`), offer every registered target's flags from that metadata without
knowing the targets, and read the environment only there: `build_options(kind, given,
env)` takes the flags' text and the environment as arguments. Text becomes a value
through the field's `parse` (None: not given, the default stays); `check()` then
validates the whole object, also when a library caller builds it directly, so a bad value
fails when the options are built, with an `OptionError` naming the option, what was wrong
and what to do.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Final, Self, TypeVar

from hil.errors import HilError
from hil.scenario.values import parse_duration

OPTION_KEY: Final = "teddy_hil.option"
Parse = Callable[[str], object]


class OptionError(HilError):
    """A target option with a bad value: names the option, what is wrong, what to do."""


def text(value: str) -> str | None:
    """A text option: surrounding blanks dropped, a blank value is "not given"."""
    return value.strip() or None


def path(value: str) -> Path | None:
    """A path option (a blank value is "not given")."""
    stripped = value.strip()
    return Path(stripped).expanduser() if stripped else None


def seconds(value: str) -> float | None:
    """A duration option: `60`, `90s`, `2m`, `500ms` (a blank value is "not given")."""
    stripped = value.strip()
    if not stripped:
        return None
    try:
        return float(stripped)
    except ValueError:
        return parse_duration(stripped)


@dataclass(frozen=True)
class OptionSpec:
    """How the edges offer one option field: flag, environment default, help."""

    help: str
    flag: str | None  # None: set only through `env` (a secret such as a token)
    env: str | None  # read by the CLI / pytest plugin as the default, never deeper
    parse: Parse
    metavar: str | None
    default_text: str | None  # what "not given" means, for --help (None: the default)

    @property
    def dest(self) -> str:
        """The argparse / pytest destination of the flag (flags are unique per process)."""
        assert self.flag is not None
        return "target_option_" + self.flag.lstrip("-").replace("-", "_")

    def source(self) -> str:
        """`--port / $TEDDY_SERIAL_PORT`: where a user sets it."""
        return " / ".join(s for s in (self.flag, f"${self.env}" if self.env else None) if s)


def option(
    *,
    help: str,
    flag: str | None = None,
    env: str | None = None,
    parse: Parse = text,
    metavar: str | None = None,
    default_text: str | None = None,
) -> Mapping[str, OptionSpec]:
    """The metadata of an options field: `field(default=..., metadata=option(...))`."""
    if flag is None and env is None:
        raise ValueError("an option needs a flag or an environment variable")
    spec = OptionSpec(help, flag, env, parse, metavar, default_text)
    return {OPTION_KEY: spec}


@dataclass(frozen=True)
class TargetOptions:
    """Base of every target's options: a frozen dataclass of `option` fields.

    Subclasses set `label` (the target's name, for messages) and override `check` to
    raise `self.problem(...)` for a bad value; it runs whenever an instance is built.
    """

    label: ClassVar[str] = "target"

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        """Raise `OptionError` (through `problem`) when a value is wrong."""

    def problem(self, name: str, what: str, fix: str) -> OptionError:
        """`serial option reset (--serial-reset / $TEDDY_SERIAL_RESET): <what>; <fix>`."""
        spec = spec_of(type(self), name)
        return OptionError(f"{self.label} option {name} ({spec.source()}): {what}; {fix}")

    @classmethod
    def of(cls, options: TargetOptions) -> Self:
        """`options` as this type; OptionError when a target got another target's options."""
        if not isinstance(options, cls):
            raise OptionError(
                f"the {cls.label} target needs {cls.__name__}, got {type(options).__name__}:"
                f" build its options with {cls.__name__}(...) (the target's options_type)"
            )
        return options


@dataclass(frozen=True)
class NoOptions(TargetOptions):
    """A target without options of its own (its settings are the scenario's `device:`)."""


OptionsT = TypeVar("OptionsT", bound=TargetOptions)


def option_fields(kind: type[TargetOptions]) -> Iterator[tuple[str, OptionSpec]]:
    """(field name, spec) of every option of `kind`, in declaration order."""
    for item in dataclasses.fields(kind):
        spec = item.metadata.get(OPTION_KEY)
        if not isinstance(spec, OptionSpec):
            raise TypeError(f"{kind.__name__}.{item.name} has no metadata=option(...)")
        if spec.default_text is None:
            spec = dataclasses.replace(spec, default_text=str(item.default))
        yield item.name, spec


def spec_of(kind: type[TargetOptions], name: str) -> OptionSpec:
    for field_name, spec in option_fields(kind):
        if field_name == name:
            return spec
    raise KeyError(f"{kind.__name__} has no option {name!r}")


def flags_of(kind: type[TargetOptions]) -> list[str]:
    return [spec.flag for _, spec in option_fields(kind) if spec.flag is not None]


def build_options(
    kind: type[OptionsT], given: Mapping[str, str | None], env: Mapping[str, str]
) -> OptionsT:
    """Options of `kind` from flag text (`given`, by field name) and, for the rest, `env`.

    Only the edges call this with the real environment; a flag beats its variable.
    """
    values: dict[str, object] = {}
    for name, spec in option_fields(kind):
        raw, source = given.get(name), spec.flag
        if raw is None and spec.env is not None and spec.env in env:
            raw, source = env[spec.env], f"${spec.env}"
        if raw is None:
            continue
        try:
            value = spec.parse(raw)
        except ValueError as exc:
            raise OptionError(
                f"{kind.label} option {name} ({source}={raw!r}): {exc}; see {spec.source()}"
                " in --help"
            ) from None
        if value is not None:
            values[name] = value
    return kind(**values)


def help_of(spec: OptionSpec) -> str:
    """The --help text of one option: what it is, and its default (variable first)."""
    default = f"${spec.env}, else {spec.default_text}" if spec.env else spec.default_text
    return f"{spec.help} (default: {default})"
