"""Loads protocol/device_model.yaml into typed objects and checks it is consistent.

Owns the rules a model must follow before anything is generated from it: names are
snake_case (event names dotted, command names may hold `-`), nothing is defined twice,
every reference (a timer's owner, a field's type or `values` list, a `set` key's NVS
key) exists, NVS names fit ESP-IDF's 15 characters, defaults have their field's type.
A broken model raises `ModelError` naming the section, the entry and what to fix.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml

from protocol.errors import ModelError

NAME_RE: Final = re.compile(r"[a-z][a-z0-9_]*")
EVENT_RE: Final = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*")
COMMAND_RE: Final = re.compile(r"[a-z][a-z0-9-]*")
IO_TYPES: Final = (
    "int",
    "str",
    "bool",
    "bytes",
    "optional_str",
    "headers",
    "header_map",
    "timer",
    "slot",
    "capture_kind",
    "reset_reason",
    "rollback_reason",
    "nvs_value",
)
EVENT_TYPES: Final = ("str", "int", "bool", "str_list", "setting_value")
NVS_TYPES: Final = ("str", "u32", "i32")
SETTING_TYPES: Final = ("str", "int", "optional_str", "optional_int")
TIMING_KINDS: Final = ("ms", "ratio", "count", "ms_or_server")
ARG_FORMS: Final = ("none", "choice", "talk", "rest", "set", "get", "quirk")
RULE_KINDS: Final = ("integer", "id", "nonblank")
HOSTS: Final = ("emulator", "fw_host")
NVS_NAME_MAX: Final = 15
# Vocabularies a field may name in `values:` (the event catalogue's closed strings).
VOCABULARIES: Final = (
    "states",
    "slots",
    "reset_reasons",
    "rollback_reasons",
    "ota_none_reasons",
    "refresh_next",
    "commands",
    "command_error_reasons",
)


@dataclass(frozen=True)
class Named:
    """An entry of a plain list: a name and what it means."""

    name: str
    doc: str = ""


@dataclass(frozen=True)
class IoField:
    name: str
    type: str
    has_default: bool = False
    default: object = None


@dataclass(frozen=True)
class IoKind:
    """One input or effect kind."""

    name: str
    doc: str
    fields: tuple[IoField, ...]


@dataclass(frozen=True)
class EventField:
    name: str
    type: str
    values: str | None = None
    required: bool = True
    note: str = ""


@dataclass(frozen=True)
class Event:
    name: str
    when: str
    fields: tuple[EventField, ...]
    note: str = ""


@dataclass(frozen=True)
class Timer:
    name: str
    owner: str
    doc: str


@dataclass(frozen=True)
class ResetReason:
    name: str
    crash: bool
    doc: str


@dataclass(frozen=True)
class NvsKey:
    namespace: str
    key: str
    type: str
    doc: str = ""


@dataclass(frozen=True)
class NvsNamespace:
    name: str
    doc: str
    factory_reset: bool  # True: `factory-reset` erases it
    keys: tuple[NvsKey, ...]


@dataclass(frozen=True)
class Command:
    name: str
    args: str
    doc: str
    choices: tuple[str, ...] = ()
    reply: tuple[EventField, ...] = ()


@dataclass(frozen=True)
class SetKey:
    key: str
    type: str  # "int" or "str"
    rule: str
    min: int | None
    max: int | None
    max_len: int | None
    nvs: NvsKey
    doc: str


@dataclass(frozen=True)
class Quirk:
    """A named misbehaviour (SPEC Appendix C); `value` is the metavar of its argument.

    `min`/`max` (both or neither): the value is an integer in that range; `example`: a
    value that shows the misbehaviour (the self-test's mutant, hil/selftest.py).
    """

    name: str
    spec: str
    doc: str
    value: str | None = None
    min: int | None = None
    max: int | None = None
    example: str | None = None


@dataclass(frozen=True)
class Setting:
    name: str
    type: str
    default: object
    help: str
    cli_default: object = None
    build: bool = False
    hosts: tuple[str, ...] = HOSTS
    choices: tuple[str, ...] = ()
    choices_from: str | None = None
    min: int | None = None
    max: int | None = None
    pattern: str | None = None  # the whole value matches it (POSIX extended syntax)
    required: bool = False
    repeat: bool = False
    metavar: str | None = None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def effective_cli_default(self) -> object:
        return self.default if self.cli_default is None else self.cli_default


@dataclass(frozen=True)
class TimingField:
    name: str
    kind: str
    fast: float | None
    real: float | None
    spec: str
    doc: str
    driver: bool = False


@dataclass(frozen=True)
class Constant:
    name: str
    type: str
    value: object
    doc: str


@dataclass(frozen=True)
class Model:
    """Everything protocol/device_model.yaml defines."""

    sha256: str
    types: dict[str, str]  # type -> its canonical JSON form
    states: tuple[Named, ...]
    timer_owners: dict[str, dict[str, str]]
    timers: tuple[Timer, ...]
    reset_reasons: tuple[ResetReason, ...]
    rollback_reasons: tuple[Named, ...]
    slots: tuple[str, ...]
    capture_kinds: tuple[Named, ...]
    behaviour_prefix: str
    behaviour_keys: tuple[Setting, ...]
    inputs: tuple[IoKind, ...]
    effects: tuple[IoKind, ...]
    events: tuple[Event, ...]
    ota_none_reasons: tuple[str, ...]
    refresh_next: tuple[str, ...]
    local_error_codes: tuple[Named, ...]
    nvs: tuple[NvsNamespace, ...]
    commands: tuple[Command, ...]
    command_error_reasons: tuple[Named, ...]
    set_keys: tuple[SetKey, ...]
    quirks: tuple[Quirk, ...]
    settings: tuple[Setting, ...]
    host_options: tuple[Setting, ...]
    timing: tuple[TimingField, ...]
    constants: tuple[Constant, ...]

    @property
    def crash_reasons(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.reset_reasons if r.crash)

    @property
    def all_rollback_reasons(self) -> tuple[str, ...]:
        return (*(r.name for r in self.rollback_reasons), *self.crash_reasons)

    def vocabulary(self, name: str) -> tuple[str, ...]:
        """The closed list a field's `values:` names."""
        lists: dict[str, tuple[str, ...]] = {
            "states": tuple(s.name for s in self.states),
            "slots": self.slots,
            "reset_reasons": tuple(r.name for r in self.reset_reasons),
            "rollback_reasons": self.all_rollback_reasons,
            "ota_none_reasons": self.ota_none_reasons,
            "refresh_next": self.refresh_next,
            "commands": tuple(c.name for c in self.commands),
            "command_error_reasons": tuple(r.name for r in self.command_error_reasons),
        }
        return lists[name]

    def nvs_key(self, namespace: str, key: str) -> NvsKey:
        for ns in self.nvs:
            for entry in ns.keys:
                if ns.name == namespace and entry.key == key:
                    return entry
        raise KeyError(f"{namespace}/{key}")


# --- reading helpers -----------------------------------------------------------------


class _Reader:
    """Typed access to one mapping of the YAML with errors that say where."""

    def __init__(self, data: object, where: str) -> None:
        if not isinstance(data, dict):
            raise ModelError(f"{where}: expected a mapping, got {type(data).__name__}")
        self.data: dict[str, Any] = data
        self.where = where

    def _get(self, key: str, kind: type, default: object) -> Any:
        if key not in self.data:
            if default is _REQUIRED:
                raise ModelError(f"{self.where}: missing `{key}`")
            return default
        value = self.data[key]
        # bool is an int in Python: a `true` where a number belongs is still an error.
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise ModelError(f"{self.where}.{key}: expected {kind.__name__}, got {value!r}")
        return value

    def text(self, key: str, default: object = None) -> Any:
        return self._get(key, str, _REQUIRED if default is None else default)

    def opt_text(self, key: str) -> str | None:
        value: str | None = self._get(key, str, None)
        return value

    def flag(self, key: str, default: bool = False) -> bool:
        value: bool = self._get(key, bool, default)
        return value

    def number(self, key: str) -> int | None:
        value: int | None = self._get(key, int, None)
        return value

    def items(self, key: str, *, required: bool = True) -> list[Any]:
        value: list[Any] = self._get(key, list, _REQUIRED if required else [])
        return value

    def mapping(self, key: str) -> dict[str, Any]:
        value: dict[str, Any] = self._get(key, dict, _REQUIRED)
        return value

    def raw(self, key: str, default: object = None) -> object:
        return self.data.get(key, default)

    def only(self, *allowed: str) -> None:
        unknown = sorted(set(self.data) - set(allowed))
        if unknown:
            raise ModelError(
                f"{self.where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}"
            )


_REQUIRED: Final = object()


def read_yaml(path: Path) -> tuple[dict[str, Any], str]:
    """The parsed model and the SHA-256 of its bytes."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"{path}: cannot read the device model ({exc})") from exc
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ModelError(f"{path}: not valid YAML ({exc})") from exc
    if not isinstance(data, dict):
        raise ModelError(f"{path}: the model must be a mapping of sections")
    return data, hashlib.sha256(raw).hexdigest()


def check_name(name: object, where: str, pattern: re.Pattern[str] = NAME_RE) -> str:
    if not isinstance(name, str) or not pattern.fullmatch(name):
        raise ModelError(f"{where}: bad name {name!r} (want {pattern.pattern})")
    return name


def check_unique(names: list[str], where: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ModelError(f"{where}: {name!r} is defined twice")
        seen.add(name)
