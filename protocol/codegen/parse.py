"""Turns the sections of protocol/device_model.yaml into `protocol.codegen.model` objects.

Owns the per-section checks (see `protocol.codegen.model` for the rules); `load_model` is
the one entry point. Every error names the section and entry, e.g.
`timers[3] (ota_retry): owner 'ota2' is not one of claim, link, ota, config, device`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from protocol.codegen.model import (
    ARG_FORMS,
    COMMAND_RE,
    EVENT_RE,
    EVENT_TYPES,
    IO_TYPES,
    NVS_NAME_MAX,
    NVS_TYPES,
    RULE_KINDS,
    SETTING_TYPES,
    VOCABULARIES,
    Command,
    Event,
    EventField,
    IoField,
    IoKind,
    Model,
    Named,
    NvsKey,
    NvsNamespace,
    Quirk,
    ResetReason,
    SetKey,
    Setting,
    Timer,
    _Reader,
    check_name,
    check_unique,
    read_yaml,
)
from protocol.codegen.parse_settings import parse_constants, parse_settings, parse_timing
from protocol.errors import ModelError

SECTIONS = (
    "types",
    "states",
    "timer_owners",
    "timers",
    "reset_reasons",
    "rollback_reasons",
    "slots",
    "capture_kinds",
    "behaviour_marker",
    "inputs",
    "effects",
    "events",
    "ota_none_reasons",
    "refresh_next",
    "local_error_codes",
    "nvs",
    "console",
    "quirks",
    "settings",
    "host_options",
    "timing",
    "constants",
)


def _one_of(value: str, allowed: tuple[str, ...], where: str, what: str) -> str:
    if value not in allowed:
        raise ModelError(f"{where}: {what} {value!r} is not one of {', '.join(allowed)}")
    return value


def _named_list(items: list[Any], where: str) -> tuple[Named, ...]:
    out: list[Named] = []
    for i, item in enumerate(items):
        r = _Reader(item, f"{where}[{i}]")
        r.only("name", "doc", "meaning", "crash")
        name = check_name(r.text("name"), r.where)
        out.append(Named(name, r.text("doc", "") or r.text("meaning", "")))
    check_unique([n.name for n in out], where)
    return tuple(out)


def _name_list(items: list[Any], where: str) -> tuple[str, ...]:
    names = tuple(check_name(item, f"{where}[{i}]") for i, item in enumerate(items))
    check_unique(list(names), where)
    return names


def _io_kinds(section: dict[str, Any], where: str) -> tuple[IoKind, ...]:
    kinds: list[IoKind] = []
    for name, spec in section.items():
        at = f"{where}.{name}"
        check_name(name, at)
        r = _Reader(spec, at)
        r.only("doc", "fields")
        fields: list[IoField] = []
        for i, item in enumerate(r.items("fields")):
            f = _Reader(item, f"{at}.fields[{i}]")
            f.only("name", "type", "default")
            fname = check_name(f.text("name"), f.where)
            if fname == "kind":
                raise ModelError(f"{f.where}: `kind` names the input/effect in canonical JSON")
            ftype = _one_of(f.text("type"), IO_TYPES, f.where, "type")
            has_default = "default" in f.data
            if ftype == "bytes" and has_default and f.raw("default") != "":
                raise ModelError(f'{f.where}: a bytes field can only default to "" (empty)')
            fields.append(IoField(fname, ftype, has_default, f.raw("default")))
        check_unique([f.name for f in fields], at)
        seen_default = False
        for field in fields:
            if seen_default and not field.has_default:
                raise ModelError(f"{at}: field {field.name} without a default follows one with")
            seen_default = seen_default or field.has_default
        kinds.append(IoKind(name, r.text("doc"), tuple(fields)))
    return tuple(kinds)


def _event_fields(items: list[Any], where: str) -> tuple[EventField, ...]:
    fields: list[EventField] = []
    for i, item in enumerate(items):
        f = _Reader(item, f"{where}[{i}]")
        f.only("name", "type", "values", "required", "note")
        values = f.opt_text("values")
        if values is not None:
            _one_of(values, VOCABULARIES, f.where, "values")
        fields.append(
            EventField(
                check_name(f.text("name"), f.where),
                _one_of(f.text("type"), EVENT_TYPES, f.where, "type"),
                values,
                f.flag("required", True),
                f.text("note", ""),
            )
        )
    check_unique([f.name for f in fields], where)
    return tuple(fields)


def _events(section: dict[str, Any]) -> tuple[Event, ...]:
    events: list[Event] = []
    for name, spec in section.items():
        at = f"events.{name}"
        check_name(name, at, EVENT_RE)
        r = _Reader(spec, at)
        r.only("when", "fields", "note")
        events.append(
            Event(name, r.text("when"), _event_fields(r.items("fields"), at), r.text("note", ""))
        )
    return tuple(events)


def _timers(items: list[Any], owners: dict[str, Any]) -> tuple[Timer, ...]:
    timers: list[Timer] = []
    for i, item in enumerate(items):
        r = _Reader(item, f"timers[{i}]")
        r.only("name", "owner", "doc")
        name = check_name(r.text("name"), r.where)
        owner = _one_of(r.text("owner"), tuple(owners), f"{r.where} ({name})", "owner")
        timers.append(Timer(name, owner, r.text("doc")))
    check_unique([t.name for t in timers], "timers")
    return tuple(timers)


def _reset_reasons(items: list[Any]) -> tuple[ResetReason, ...]:
    reasons = tuple(
        ResetReason(n.name, _Reader(item, "").flag("crash"), n.doc)
        for n, item in zip(_named_list(items, "reset_reasons"), items, strict=True)
    )
    if "unknown" not in [r.name for r in reasons]:
        raise ModelError("reset_reasons: `unknown` is required (what an unknown reason maps to)")
    return reasons


def _nvs(section: dict[str, Any]) -> tuple[NvsNamespace, ...]:
    spaces: list[NvsNamespace] = []
    for ns, spec in section.items():
        at = f"nvs.{ns}"
        check_name(ns, at)
        if len(ns) > NVS_NAME_MAX:
            raise ModelError(f"{at}: namespace longer than {NVS_NAME_MAX} characters (ESP-IDF)")
        r = _Reader(spec, at)
        r.only("doc", "factory_reset", "keys")
        reset = _one_of(r.text("factory_reset"), ("erase", "keep"), at, "factory_reset")
        keys: list[NvsKey] = []
        for i, item in enumerate(r.items("keys")):
            k = _Reader(item, f"{at}.keys[{i}]")
            k.only("key", "type", "doc")
            key = check_name(k.text("key"), k.where)
            if len(key) > NVS_NAME_MAX:
                raise ModelError(f"{k.where}: key {key} longer than {NVS_NAME_MAX} (ESP-IDF)")
            keys.append(
                NvsKey(
                    ns, key, _one_of(k.text("type"), NVS_TYPES, k.where, "type"), k.text("doc", "")
                )
            )
        check_unique([k.key for k in keys], at)
        spaces.append(NvsNamespace(ns, r.text("doc"), reset == "erase", tuple(keys)))
    return tuple(spaces)


def _commands(items: list[Any]) -> tuple[Command, ...]:
    commands: list[Command] = []
    for i, item in enumerate(items):
        r = _Reader(item, f"console.commands[{i}]")
        r.only("name", "args", "choices", "doc", "reply")
        name = check_name(r.text("name"), r.where, COMMAND_RE)
        args = _one_of(r.text("args"), ARG_FORMS, r.where, "args")
        choices = _name_list(r.items("choices", required=False), f"{r.where}.choices")
        if (args == "choice") != bool(choices):
            raise ModelError(f"{r.where}: `choices` goes with args: choice, and only with it")
        reply = _event_fields(r.items("reply", required=False), f"{r.where}.reply")
        commands.append(Command(name, args, r.text("doc"), choices, reply))
    check_unique([c.name for c in commands], "console.commands")
    return tuple(commands)


def _set_keys(items: list[Any], spaces: tuple[NvsNamespace, ...]) -> tuple[SetKey, ...]:
    keys: list[SetKey] = []
    for i, item in enumerate(items):
        r = _Reader(item, f"console.set_keys[{i}]")
        r.only("key", "type", "rule", "nvs", "doc")
        key = check_name(r.text("key"), r.where)
        typ = _one_of(r.text("type"), ("int", "str"), r.where, "type")
        rule = _Reader(r.mapping("rule"), f"{r.where}.rule")
        rule.only("kind", "min", "max", "max_len")
        kind = _one_of(rule.text("kind"), RULE_KINDS, rule.where, "kind")
        if (kind == "integer") != (typ == "int"):
            raise ModelError(f"{r.where}: rule integer goes with type int, and only with it")
        ns, _, nvs_key = r.text("nvs").partition("/")
        found = [k for s in spaces if s.name == ns for k in s.keys if k.key == nvs_key]
        if not found:
            raise ModelError(f"{r.where}: nvs {ns}/{nvs_key} is not a key of the `nvs` section")
        if (found[0].type == "str") != (typ == "str"):
            raise ModelError(f"{r.where}: nvs {ns}/{nvs_key} is {found[0].type}, key is {typ}")
        keys.append(
            SetKey(
                key,
                typ,
                kind,
                rule.number("min"),
                rule.number("max"),
                rule.number("max_len"),
                found[0],
                r.text("doc"),
            )
        )
    check_unique([k.key for k in keys], "console.set_keys")
    return tuple(keys)


def _quirks(items: list[Any]) -> tuple[Quirk, ...]:
    quirks: list[Quirk] = []
    for i, item in enumerate(items):
        r = _Reader(item, f"quirks[{i}]")
        r.only("name", "spec", "doc", "value", "min", "max", "example")
        name = check_name(r.text("name"), r.where)
        spec = r.text("spec")
        if not spec.startswith("§"):
            raise ModelError(f"{r.where} ({name}): spec {spec!r} names SPEC sections (§2.3, ...)")
        value = r.opt_text("value")
        if value is not None and not value.isupper():
            raise ModelError(f"{r.where} ({name}): value {value!r} is a metavar (TOKEN)")
        low, high = r.number("min"), r.number("max")
        if (low is None) != (high is None) or (low is not None and value is None):
            raise ModelError(f"{r.where} ({name}): min and max go together, with a value")
        if low is not None and high is not None and low > high:
            raise ModelError(f"{r.where} ({name}): min {low} is above max {high}")
        example = r.number("example")
        if (example is None) != (low is None):
            raise ModelError(f"{r.where} ({name}): an integer quirk, and only one, has an example")
        if (
            example is not None
            and low is not None
            and high is not None
            and not low <= example <= high
        ):
            raise ModelError(f"{r.where} ({name}): example {example} is outside {low}..{high}")
        shown = str(example) if example is not None else None
        quirks.append(Quirk(name, spec, r.text("doc"), value, low, high, shown))
    check_unique([q.name for q in quirks], "quirks")
    return tuple(quirks)


def _behaviour(section: dict[str, Any]) -> tuple[str, tuple[Setting, ...]]:
    r = _Reader(section, "behaviour_marker")
    r.only("prefix", "keys")
    keys = []
    for i, item in enumerate(r.items("keys")):
        k = _Reader(item, f"behaviour_marker.keys[{i}]")
        k.only("name", "type", "doc")
        keys.append(
            Setting(
                check_name(k.text("name"), k.where),
                _one_of(k.text("type"), ("str", "int"), k.where, "type"),
                None,
                k.text("doc"),
            )
        )
    return r.text("prefix"), tuple(keys)


def load_model(path: Path) -> Model:
    """Read and check the model; ModelError says what is wrong and where."""
    data, sha = read_yaml(path)
    top = _Reader(data, path.name)
    top.only(*SECTIONS)
    console = _Reader(top.mapping("console"), "console")
    console.only("commands", "error_reasons", "set_keys")
    owners = top.mapping("timer_owners")
    nvs = _nvs(top.mapping("nvs"))
    prefix, behaviour_keys = _behaviour(top.mapping("behaviour_marker"))
    types = {
        name: _Reader(spec, f"types.{name}").text("json")
        for name, spec in top.mapping("types").items()
    }
    missing = sorted(set(IO_TYPES + EVENT_TYPES) - set(types))
    if missing:
        raise ModelError(f"types: document every field type; missing {', '.join(missing)}")
    model = Model(
        sha256=sha,
        types=types,
        states=_named_list(top.items("states"), "states"),
        timer_owners=owners,
        timers=_timers(top.items("timers"), owners),
        reset_reasons=_reset_reasons(top.items("reset_reasons")),
        rollback_reasons=_named_list(top.items("rollback_reasons"), "rollback_reasons"),
        slots=_name_list(top.items("slots"), "slots"),
        capture_kinds=_named_list(top.items("capture_kinds"), "capture_kinds"),
        behaviour_prefix=prefix,
        behaviour_keys=behaviour_keys,
        inputs=_io_kinds(top.mapping("inputs"), "inputs"),
        effects=_io_kinds(top.mapping("effects"), "effects"),
        events=_events(top.mapping("events")),
        ota_none_reasons=_name_list(top.items("ota_none_reasons"), "ota_none_reasons"),
        refresh_next=_name_list(top.items("refresh_next"), "refresh_next"),
        local_error_codes=_named_list(top.items("local_error_codes"), "local_error_codes"),
        nvs=nvs,
        commands=_commands(console.items("commands")),
        command_error_reasons=_named_list(console.items("error_reasons"), "console.error_reasons"),
        set_keys=_set_keys(console.items("set_keys"), nvs),
        quirks=_quirks(top.items("quirks")),
        settings=parse_settings(top.items("settings"), "settings", SETTING_TYPES),
        host_options=parse_settings(top.items("host_options"), "host_options", ("str", "int")),
        timing=parse_timing(top.items("timing")),
        constants=parse_constants(top.items("constants")),
    )
    _cross_checks(model)
    return model


def _cross_checks(model: Model) -> None:
    names = [s.name for s in model.settings] + [o.name for o in model.host_options]
    check_unique(names, "settings + host_options (one command line)")
    overlap = set(model.crash_reasons) & {r.name for r in model.rollback_reasons}
    if overlap:
        raise ModelError(f"rollback_reasons: {', '.join(overlap)} is already a crash reason")
    if len(model.slots) != 2:
        raise ModelError("slots: an ESP-IDF two-OTA layout has exactly two app slots")
    shared = {k.name for k in model.inputs} & {k.name for k in model.effects}
    if shared:
        raise ModelError(f"inputs and effects share kind name(s) {', '.join(sorted(shared))}")
    for command in model.commands:
        if command.reply and command.reply[0].name == "cmd":
            raise ModelError(f"console.commands {command.name}: `cmd` is implied in replies")
