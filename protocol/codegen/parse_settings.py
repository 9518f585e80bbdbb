"""Parses the settings-like sections of the device model: settings, options, timing.

Owns the checks of `settings:` and `host_options:` (types, defaults, choices, patterns
both cores can match), `timing:` (fast and realistic values of each kind) and
`constants:`; `protocol.codegen.parse.load_model` calls these.
"""

from __future__ import annotations

import re
from typing import Any

from protocol.codegen.model import (
    HOSTS,
    TIMING_KINDS,
    VOCABULARIES,
    Constant,
    Setting,
    TimingField,
    _Reader,
    check_name,
    check_unique,
)
from protocol.errors import ModelError


def _one_of(value: str, allowed: tuple[str, ...], where: str, what: str) -> str:
    if value not in allowed:
        raise ModelError(f"{where}: {what} {value!r} is not one of {', '.join(allowed)}")
    return value


def _check_typed(value: object, typ: str, where: str) -> None:
    ok = {
        "str": isinstance(value, str),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "optional_str": value is None or isinstance(value, str),
        "optional_int": value is None or (isinstance(value, int) and not isinstance(value, bool)),
    }[typ]
    if not ok:
        raise ModelError(f"{where}: default {value!r} is not of type {typ}")


def parse_settings(items: list[Any], where: str, types: tuple[str, ...]) -> tuple[Setting, ...]:
    settings: list[Setting] = []
    for i, item in enumerate(items):
        r = _Reader(item, f"{where}[{i}]")
        r.only(
            "name",
            "type",
            "default",
            "cli_default",
            "build",
            "hosts",
            "choices",
            "choices_from",
            "min",
            "max",
            "pattern",
            "help",
            "required",
            "repeat",
            "metavar",
        )
        name = check_name(r.text("name"), r.where)
        at = f"{r.where} ({name})"
        typ = _one_of(r.text("type"), types, at, "type")
        hosts = tuple(_one_of(h, HOSTS, at, "host") for h in r.items("hosts", required=False))
        setting = Setting(
            name=name,
            type=typ,
            default=r.raw("default"),
            help=r.text("help"),
            cli_default=r.raw("cli_default"),
            build=r.flag("build"),
            hosts=hosts or HOSTS,
            choices=tuple(r.items("choices", required=False)),
            choices_from=r.opt_text("choices_from"),
            min=r.number("min"),
            max=r.number("max"),
            pattern=r.opt_text("pattern"),
            required=r.flag("required"),
            repeat=r.flag("repeat"),
            metavar=r.opt_text("metavar"),
        )
        if "default" in r.data:
            _check_typed(setting.default, typ, at)
        elif where == "settings":
            raise ModelError(f"{at}: needs a `default`")
        if setting.choices and setting.default is not None:
            _one_of(str(setting.default), setting.choices, at, "default")
        if setting.choices_from is not None:
            _one_of(setting.choices_from, ("chip_ids", *VOCABULARIES), at, "choices_from")
        if setting.pattern is not None:
            _check_pattern(setting, at)
        settings.append(setting)
    check_unique([s.name for s in settings], where)
    return tuple(settings)


def _check_pattern(setting: Setting, at: str) -> None:
    """Both cores match the pattern (Python re, C POSIX regcomp): keep to their subset."""
    pattern = setting.pattern or ""
    if "\\" in pattern or "(?" in pattern:
        raise ModelError(f"{at}: pattern {pattern!r}: no escapes or (?...) groups (POSIX ERE)")
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise ModelError(f"{at}: pattern {pattern!r} does not compile ({exc})") from None
    if isinstance(setting.default, str) and not compiled.fullmatch(setting.default):
        raise ModelError(f"{at}: default {setting.default!r} does not match {pattern!r}")


def parse_timing(items: list[Any]) -> tuple[TimingField, ...]:
    fields: list[TimingField] = []
    for i, item in enumerate(items):
        r = _Reader(item, f"timing[{i}]")
        r.only("name", "kind", "fast", "real", "spec", "doc", "driver")
        name = check_name(r.text("name"), r.where)
        kind = _one_of(r.text("kind"), TIMING_KINDS, f"{r.where} ({name})", "kind")
        values: list[float | None] = []
        for profile in ("fast", "real"):
            value = r.raw(profile, _MISSING)
            nullable = kind == "ms_or_server" and value is None
            if not nullable and (isinstance(value, bool) or not isinstance(value, int | float)):
                raise ModelError(f"{r.where} ({name}): `{profile}` must be a number")
            if kind != "ratio" and not nullable and not isinstance(value, int):
                raise ModelError(f"{r.where} ({name}): `{profile}` must be a whole number")
            values.append(None if nullable else float(value))  # type: ignore[arg-type]
        fields.append(
            TimingField(
                name, kind, values[0], values[1], r.text("spec"), r.text("doc"), r.flag("driver")
            )
        )
    check_unique([f.name for f in fields], "timing")
    return tuple(fields)


_MISSING = object()


def parse_constants(items: list[Any]) -> tuple[Constant, ...]:
    out: list[Constant] = []
    for i, item in enumerate(items):
        r = _Reader(item, f"constants[{i}]")
        r.only("name", "type", "value", "doc")
        name = check_name(r.text("name"), r.where)
        typ = _one_of(r.text("type"), ("int", "str"), r.where, "type")
        value = r.raw("value")
        _check_typed(value, typ, f"{r.where} ({name})")
        out.append(Constant(name, typ, value, r.text("doc")))
    check_unique([c.name for c in out], "constants")
    return tuple(out)
