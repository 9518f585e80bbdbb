"""Writes protocol/device_model.py: the model's vocabularies and tables for Python.

Literal types (State, Timer, ResetReason, EventName, InputKind, EffectKind, ...) so a
misspelt name fails mypy, typed NVS keys (`NvsKey[str]` / `NvsKey[int]`), the console
command table, device settings and the `DeviceTiming` dataclass with its fast and
realistic defaults. The event classes are `gen_py_events`, the input/effect dataclasses
`gen_py_io`.
"""

from __future__ import annotations

from protocol.codegen.model import (
    ARG_FORMS,
    EVENT_TYPES,
    HOSTS,
    IO_TYPES,
    NVS_TYPES,
    RULE_KINDS,
    SETTING_TYPES,
    TIMING_KINDS,
    VOCABULARIES,
    EventField,
    Model,
    Setting,
)
from protocol.codegen.output import Output, Sources, banner_lines, py_str, py_value, upper
from protocol.codegen.pyfmt import seq, text

PATH = "protocol/device_model.py"


def literal(name: str, values: tuple[str, ...] | list[str], doc: str) -> list[str]:
    """`Name = Literal[...]` (one value a line) and `NAMES = get_args(Name)`."""
    plural = _plural(name)
    body = [f"# {doc}", f"{name} = Literal["]
    body += [f"    {py_str(v)}," for v in values]
    body += ["]", f"{plural}: Final[tuple[{name}, ...]] = get_args({name})", ""]
    return body


def _plural(name: str) -> str:
    out = ""
    for i, ch in enumerate(name):
        if ch.isupper() and i:
            out += "_"
        out += ch.upper()
    return out + ("ES" if out.endswith("S") else "S")


def _dict(head: str, pairs: list[tuple[str, str]]) -> list[str]:
    """A dict literal, one `key: value` a line."""
    return seq(head, [f"{k}: {v}" for k, v in pairs], "}")


def _event_field(f: EventField) -> str:
    values = py_str(f.values) if f.values else "None"
    return f"EventFieldSpec({py_str(f.name)}, {py_str(f.type)}, {values}, {f.required})"


def _spec_classes() -> list[str]:
    return [
        "@dataclass(frozen=True)",
        "class EventFieldSpec:",
        '    """A member an event (or a command reply) carries; `values` names a closed list."""',
        "",
        "    name: str",
        "    type: EventType",
        "    values: VocabularyName | None = None",
        "    required: bool = True",
        "",
        "",
        "@dataclass(frozen=True)",
        "class IoFieldSpec:",
        '    """A field of an input or effect, in canonical JSON order (see IO_JSON_FORMS)."""',
        "",
        "    name: str",
        "    type: IoType",
        "    has_default: bool = False",
        "",
        "",
        "@dataclass(frozen=True)",
        "class NvsKey(Generic[_V]):",
        '    """One NVS key: `NvsKey[str]` holds text, `NvsKey[int]` a u32 or i32."""',
        "",
        "    namespace: NvsNamespace",
        "    key: str",
        "    type: NvsType",
        "",
        "",
        "@dataclass(frozen=True)",
        "class CommandSpec:",
        '    """A console command: how its arguments are parsed and what `cmd.ok` adds."""',
        "",
        "    name: CommandName",
        "    args: ArgForm",
        "    doc: str",
        "    choices: tuple[str, ...] = ()",
        "    reply: tuple[EventFieldSpec, ...] = ()",
        "",
        "",
        "@dataclass(frozen=True)",
        "class SetKeySpec:",
        '    """A `set`/`get` key: its value rule and where `set` stores it."""',
        "",
        "    key: SetKey",
        '    type: Literal["int", "str"]',
        "    rule: RuleKind",
        "    nvs: NvsKey[str] | NvsKey[int]",
        "    doc: str",
        "    min: int | None = None",
        "    max: int | None = None",
        "    max_len: int | None = None",
        "",
        "",
        "@dataclass(frozen=True)",
        "class QuirkSpec:",
        '    """A device quirk (SPEC Appendix C): the sections it breaks, its value\'s metavar."""',
        "",
        "    name: Quirk",
        "    spec: str",
        "    doc: str",
        "    value: str | None = None  # None: the quirk takes no value",
        "    min: int | None = None  # min/max: the value is an integer in this range",
        "    max: int | None = None",
        "    example: str | None = None  # a value that shows the misbehaviour (the self-test's)",
        "",
        "",
        "@dataclass(frozen=True)",
        "class SettingSpec:",
        '    """A device setting or command-line option of teddy-emulator / teddy-fw-host."""',
        "",
        "    name: str",
        "    type: SettingType",
        "    default: str | int | None",
        "    help: str",
        "    cli_default: str | int | None = None",
        "    build: bool = False",
        "    hosts: tuple[Host, ...] = HOSTS",
        "    choices: tuple[str, ...] = ()",
        "    min: int | None = None",
        "    max: int | None = None",
        "    pattern: str | None = None  # the whole value matches it",
        "    required: bool = False",
        "    repeat: bool = False",
        "    metavar: str | None = None",
        "",
        "    @property",
        "    def flag(self) -> str:",
        '        return "--" + self.name.replace("_", "-")',
        "",
        "",
        "@dataclass(frozen=True)",
        "class TimingSpec:",
        '    """A timing field: kind, fast (tests) and realistic defaults, its SPEC section."""',
        "",
        "    name: str",
        "    kind: TimingKind",
        "    fast: int | float | None",
        "    real: int | float | None",
        "    spec: str",
        "    doc: str",
        "    driver: bool = False",
        "",
        "",
    ]


def _vocabularies(m: Model) -> list[str]:
    out = literal("State", [s.name for s in m.states], "SPEC §8.3 device states, in order")
    out += _dict(
        "STATE_MEANINGS: Final[dict[State, str]] = {",
        [(py_str(s.name), py_str(s.doc)) for s in m.states],
    )
    out.append("")
    out += literal("TimerModule", list(m.timer_owners), "the core modules that own timers")
    out += literal("Timer", [t.name for t in m.timers], "the core's timers (set_timer)")
    out += _dict(
        "TIMER_OWNERS: Final[dict[Timer, TimerModule]] = {",
        [(py_str(t.name), py_str(t.owner)) for t in m.timers],
    )
    out.append("")
    out += literal("ResetReason", [r.name for r in m.reset_reasons], "SPEC §8.2 reset_reason")
    out += literal("CrashReason", list(m.crash_reasons), "reset reasons that are crashes (§5.5)")
    out += literal("RollbackReason", list(m.all_rollback_reasons), "SPEC §5.5 rollback reasons")
    out += literal("Slot", list(m.slots), "the two OTA app slots (index 0 and 1 in C)")
    out += ["# The emulated-firmware misbehaviour marker embedded in test images (JSON follows)."]
    out += [f"BEHAVIOUR_MARKER: Final = b{py_str(m.behaviour_prefix)}"]
    for key in m.behaviour_keys:
        out += [
            f"# {key.type}: {key.help}",
            f"BEHAVIOUR_{upper(key.name)}: Final = {py_str(key.name)}",
        ]
    out.append("")
    out += literal("CaptureKind", [c.name for c in m.capture_kinds], "start_capture sources")
    out += literal("OtaNoneReason", list(m.ota_none_reasons), "SPEC §8.2 ota.none{reason}")
    out += literal("RefreshNext", list(m.refresh_next), "SPEC §8.2 token.refresh.fail{next}")
    out += literal(
        "LocalErrorCode", [c.name for c in m.local_error_codes], "SPEC §8.2 local error{code}"
    )
    out += literal("CommandName", [c.name for c in m.commands], "SPEC §9.2 console commands")
    out += literal(
        "CommandErrorReason", [r.name for r in m.command_error_reasons], "SPEC §9.3 reasons"
    )
    out += literal("SetKey", [k.key for k in m.set_keys], "SPEC §9.2 `set`/`get` keys")
    out += literal("Quirk", [q.name for q in m.quirks], "SPEC Appendix C device quirks")
    out += literal("EventName", [e.name for e in m.events], "SPEC §8.2 event names, in order")
    out += literal("InputKind", [k.name for k in m.inputs], "inputs (driver -> core)")
    out += literal("EffectKind", [k.name for k in m.effects], "effects (core -> drivers)")
    out += literal("NvsNamespace", [n.name for n in m.nvs], "NVS namespaces")
    out += literal("NvsType", list(NVS_TYPES), "NVS value types")
    out += literal("IoType", list(IO_TYPES), "field types of inputs and effects")
    out += literal("EventType", list(EVENT_TYPES), "field types of events")
    out += literal("VocabularyName", list(VOCABULARIES), "closed lists event fields refer to")
    out += literal("ArgForm", list(ARG_FORMS), "how a console command's arguments parse")
    out += literal("RuleKind", list(RULE_KINDS), "`set` value rules")
    out += literal("SettingType", list(SETTING_TYPES), "device setting value types")
    out += literal("Host", list(HOSTS), "programs that run an emulated board")
    out += literal("TimingKind", list(TIMING_KINDS), "kinds of timing fields")
    return out


def _tables(m: Model) -> list[str]:
    out = ["VOCABULARIES: Final[dict[VocabularyName, tuple[str, ...]]] = {"]
    for v in VOCABULARIES:
        out += seq(f"{py_str(v)}: (", [py_str(x) for x in m.vocabulary(v)], "),", 4, tuple_=True)
    out += ["}", ""]
    out += ["# SPEC §8.2: the members every event carries, in order (more are allowed)."]
    out += ["EVENT_FIELDS: Final[dict[EventName, tuple[EventFieldSpec, ...]]] = {"]
    for event in m.events:
        out += seq(
            f"{py_str(event.name)}: (",
            [_event_field(f) for f in event.fields],
            "),",
            4,
            tuple_=True,
        )
    out += ["}", ""]
    for title, kinds in (("INPUT", m.inputs), ("EFFECT", m.effects)):
        out += [f"{title}_FIELDS: Final[dict[{title.title()}Kind, tuple[IoFieldSpec, ...]]] = {{"]
        for kind in kinds:
            fields = [
                f"IoFieldSpec({py_str(f.name)}, {py_str(f.type)}, {f.has_default})"
                for f in kind.fields
            ]
            out += seq(f"{py_str(kind.name)}: (", fields, "),", 4, tuple_=True)
        out += ["}", ""]
    out += ["# The canonical JSON form of each input/effect field type (trace vectors)."]
    out += _dict(
        "IO_JSON_FORMS: Final[dict[IoType, str]] = {",
        [(py_str(t), text(m.types[t], 8)) for t in IO_TYPES],
    )
    return [*out, ""]


def _tuple(values: tuple[str, ...] | list[str]) -> str:
    inner = ", ".join(py_str(v) for v in values)
    return f"({inner},)" if len(values) == 1 else f"({inner})"


def _nvs(m: Model) -> list[str]:
    out = ["# NVS keys with their types (ESP-IDF names: at most 15 characters)."]
    names = []
    for ns in m.nvs:
        out.append(f"# {ns.name}: {ns.doc}")
        for k in ns.keys:
            py = "str" if k.type == "str" else "int"
            name = f"NVS_{upper(ns.name)}_{upper(k.key)}"
            names.append(name)
            args = f"{py_str(ns.name)}, {py_str(k.key)}, {py_str(k.type)}"
            out.append(f"{name}: Final[NvsKey[{py}]] = NvsKey({args})")
    out += ["", "NVS_KEYS: Final[tuple[NvsKey[str] | NvsKey[int], ...]] = ("]
    out += [f"    {n}," for n in names]
    out += [")", "# SPEC §9.2 factory-reset erases these; the others survive it."]
    erase = [py_str(ns.name) for ns in m.nvs if ns.factory_reset]
    out += seq(
        "FACTORY_RESET_NAMESPACES: Final[tuple[NvsNamespace, ...]] = (", erase, ")", tuple_=True
    )
    out.append("")
    return out


def _console(m: Model) -> list[str]:
    out = ["COMMAND_SPECS: Final[dict[CommandName, CommandSpec]] = {"]
    for c in m.commands:
        args = [py_str(c.name), py_str(c.args), text(c.doc, 8)]
        if c.choices:
            args.append(f"choices={_tuple(c.choices)}")
        if c.reply:
            args.append(
                "\n".join(seq("reply=(", [_event_field(f) for f in c.reply], ")", tuple_=True))
            )
        out += seq(f"{py_str(c.name)}: CommandSpec(", args, "),", 4)
    out += ["}", "SET_KEY_SPECS: Final[dict[SetKey, SetKeySpec]] = {"]
    for k in m.set_keys:
        nvs = f"NVS_{upper(k.nvs.namespace)}_{upper(k.nvs.key)}"
        args = [py_str(k.key), py_str(k.type), py_str(k.rule), nvs, text(k.doc, 8)]
        args += [
            f"{name}={value}"
            for name, value in (("min", k.min), ("max", k.max), ("max_len", k.max_len))
            if value is not None
        ]
        out += seq(f"{py_str(k.key)}: SetKeySpec(", args, "),", 4)
    out += ["}", "QUIRK_SPECS: Final[dict[Quirk, QuirkSpec]] = {"]
    for q in m.quirks:
        args = [py_str(q.name), py_str(q.spec), text(q.doc, 8)]
        if q.value is not None:
            args.append(f"value={py_str(q.value)}")
        if q.min is not None:
            args += [f"min={q.min}", f"max={q.max}", f"example={py_str(q.example or '')}"]
        out += seq(f"{py_str(q.name)}: QuirkSpec(", args, "),", 4)
    out += ["}", ""]
    return out


def setting_spec(s: Setting, m: Model) -> list[str]:
    choices: str | None = None
    values = s.choices or (
        m.vocabulary(s.choices_from) if s.choices_from not in (None, "chip_ids") else ()
    )
    if s.choices_from == "chip_ids":
        choices = "tuple(CHIP_IDS)"
    elif values:
        choices = "\n".join(seq("(", [py_str(v) for v in values], ")", tuple_=True))
    fields = [
        ("cli_default", py_value(s.cli_default) if s.cli_default is not None else None),
        ("build", "True" if s.build else None),
        ("hosts", _tuple(s.hosts) if s.hosts != HOSTS else None),
        ("choices", choices),
        ("min", py_value(s.min) if s.min is not None else None),
        ("max", py_value(s.max) if s.max is not None else None),
        ("pattern", py_str(s.pattern) if s.pattern else None),
        ("required", "True" if s.required else None),
        ("repeat", "True" if s.repeat else None),
        ("metavar", py_str(s.metavar) if s.metavar else None),
    ]
    args = [py_str(s.name), py_str(s.type), py_value(s.default), text(s.help, 8)]
    args += [f"{name}={value}" for name, value in fields if value is not None]
    return seq("SettingSpec(", args, "),", 4)


def _settings(m: Model) -> list[str]:
    out = ["SETTINGS: Final[tuple[SettingSpec, ...]] = ("]
    for s in m.settings:
        out += setting_spec(s, m)
    out += [")", "HOST_OPTIONS: Final[tuple[SettingSpec, ...]] = ("]
    for s in m.host_options:
        out += setting_spec(s, m)
    out += [")", "", "", "@dataclass(frozen=True)", "class DeviceDefaults:"]
    out += ['    """The default of every device setting, by name (SETTINGS)."""', ""]
    for s in m.settings:
        typ = {
            "str": "str",
            "int": "int",
            "optional_str": "str | None",
            "optional_int": "int | None",
        }[s.type]
        out.append(f"    {s.name}: {typ} = {py_value(s.default)}")
    out += ["", "", "DEVICE_DEFAULTS: Final = DeviceDefaults()", ""]
    return out


def _timing(m: Model) -> list[str]:
    out = ["TIMING: Final[tuple[TimingSpec, ...]] = ("]
    for t in m.timing:
        driver = ", driver=True" if t.driver else ""
        args = [py_str(t.name), py_str(t.kind), py_value(t.fast), py_value(t.real)]
        args += [py_str(t.spec), text(t.doc, 8)] + (["driver=True"] if driver else [])
        out += seq("TimingSpec(", args, "),", 4)
    out += [")", "", "", "@dataclass(frozen=True)", "class DeviceTiming:"]
    out += [
        '    """Every delay the device core waits for, in ms of uptime (the `timing` table).',
        "",
        "    The defaults are the fast profile, so tests finish in seconds;",
        "    `DeviceTiming.realistic()` gives what a real board uses.",
        '    """',
        "",
    ]
    types = {"ms": "int", "count": "int", "ratio": "float", "ms_or_server": "int | None"}
    for t in m.timing:
        out.append(f"    # SPEC {t.spec}: {t.doc}.")
        out.append(f"    {t.name}: {types[t.kind]} = {py_value(t.fast)}")
    out += ["", "    @classmethod", "    def realistic(cls) -> DeviceTiming:"]
    out += ['        """The values a real board uses (teddy_timing_real in C)."""']
    changed = [t for t in m.timing if t.real != t.fast]
    out.append("        return cls(")
    out += [f"            {t.name}={py_value(t.real)}," for t in changed]
    out += ["        )", ""]
    return out


def generate(m: Model, sources: Sources) -> Output:
    banner = banner_lines(sources)
    head = [
        '"""The device model for Python: every closed vocabulary of the device, as data.',
        "",
        *banner,
        "",
        "Vocabularies of the two device cores (SPEC §8, §9 and the sans-I/O input/effect",
        "vocabulary), NVS keys, console tables, device settings and timing defaults.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from dataclasses import dataclass",
        "from typing import Final, Generic, Literal, TypeVar, get_args",
        "",
        "from protocol.constants import CHIP_IDS",
        "",
        f"MODEL_SHA256: Final = {py_str(sources.model_sha256)}",
        '_V = TypeVar("_V", str, int)',
        "",
    ]
    body = head + _vocabularies(m) + _spec_classes() + _tables(m) + _nvs(m) + _console(m)
    body += [*_settings(m), "", "", *_timing(m), "", ""]
    for c in m.constants:
        body += [f"# {c.doc}", f"{upper(c.name)}: Final = {py_value(c.value)}"]
    return Output(PATH, "\n".join(_tidy(body)).rstrip("\n") + "\n")


def _tidy(lines: list[str]) -> list[str]:
    """At most two blank lines in a row (PEP 8 between top-level definitions)."""
    out: list[str] = []
    for line in lines:
        if line == "" and len(out) >= 2 and out[-1] == "" and out[-2] == "":
            continue
        out.append(line)
    return out
