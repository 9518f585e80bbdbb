"""Writes protocol/device_io.py: one frozen dataclass per input and per effect kind.

The class name is the kind in CamelCase (`console_line` -> ConsoleLine, `print` ->
Print), its fields are the model's in canonical order with the model's defaults, and
`KIND` (a ClassVar) is the canonical name `protocol.device_codec` writes.
"""

from __future__ import annotations

import textwrap
from typing import Final

from protocol.codegen.model import IoField, IoKind, Model
from protocol.codegen.output import Output, Sources, banner_lines, camel, py_str
from protocol.codegen.pyfmt import seq

PATH = "protocol/device_io.py"
PY_TYPES: Final = {
    "int": "int",
    "str": "str",
    "bool": "bool",
    "bytes": "bytes",
    "optional_str": "str | None",
    "headers": "Headers",
    "header_map": "dict[str, str]",
    "timer": "Timer",
    "slot": "Slot",
    "capture_kind": "CaptureKind",
    "reset_reason": "ResetReason",
    "rollback_reason": "RollbackReason",
    "nvs_value": "NvsValue",
}


def _default(field: IoField) -> str:
    if field.type == "header_map":
        return " = field(default_factory=dict)"
    if field.type == "bytes":  # the model only ever defaults bytes to empty
        return ' = b""'

    if field.type == "headers":
        return " = ()"
    if isinstance(field.default, str):
        return f" = {py_str(field.default)}"
    return f" = {field.default!r}"


def _class(kind: IoKind, literal: str) -> list[str]:
    doc = kind.doc[:1].upper() + kind.doc[1:] + "."
    lines = ["@dataclass(frozen=True)", f"class {camel(kind.name)}:"]
    if len(doc) + 10 <= 100:
        lines.append(f'    """{doc}"""')
    else:
        lines += [
            '    """' + _wrap(doc, 88)[0],
            *(f"    {w}" for w in _wrap(doc, 88)[1:]),
            '    """',
        ]
    lines += ["", f"    KIND: ClassVar[{literal}] = {py_str(kind.name)}"]
    for f in kind.fields:
        default = _default(f) if f.has_default else ""
        lines.append(f"    {f.name}: {PY_TYPES[f.type]}{default}")
    return [*lines, "", ""]


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width)


def _union(name: str, kinds: tuple[IoKind, ...]) -> list[str]:
    return [
        f"{name} = (",
        *(f"    {'| ' if i else ''}{camel(k.name)}" for i, k in enumerate(kinds)),
        ")",
    ]


def generate(m: Model, sources: Sources) -> Output:
    head = [
        '"""The sans-I/O vocabulary of the device cores: inputs (drivers -> core) and effects.',
        "",
        *banner_lines(sources),
        "",
        "A core handles one input at a time, with the uptime at which it happened, and",
        "returns effects its drivers carry out in order; correlation ids (req_id, conn_id,",
        "capture_id) let it ignore late reports of work it abandoned. The C core's",
        "teddy_input_t / teddy_effect_t carry the same kinds and fields (teddy_model.h).",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from dataclasses import dataclass, field",
        "from typing import ClassVar, Final",
        "",
        "from protocol.device_model import (",
        "    CaptureKind,",
        "    EffectKind,",
        "    InputKind,",
        "    ResetReason,",
        "    RollbackReason,",
        "    Slot,",
        "    Timer,",
        ")",
        "",
        "# An NVS value: text (str keys) or a number (u32 / i32 keys).",
        "NvsValue = str | int",
        "# Request headers, in order: ((name, value), ...).",
        "Headers = tuple[tuple[str, str], ...]",
        "",
        "# --- inputs: drivers -> core " + "-" * 62,
        "",
        "",
    ]
    body = head
    for kind in m.inputs:
        body += _class(kind, "InputKind")
    body += ["# --- effects: core -> drivers " + "-" * 61, "", ""]
    for kind in m.effects:
        body += _class(kind, "EffectKind")
    body += [*_union("Input", m.inputs), "", *_union("Effect", m.effects), ""]
    body += seq(
        "INPUT_CLASSES: Final[dict[InputKind, type[Input]]] = {",
        [f"{py_str(k.name)}: {camel(k.name)}" for k in m.inputs],
        "}",
    )
    body += seq(
        "EFFECT_CLASSES: Final[dict[EffectKind, type[Effect]]] = {",
        [f"{py_str(k.name)}: {camel(k.name)}" for k in m.effects],
        "}",
    )
    return Output(PATH, "\n".join(body) + "\n")
