"""Writes protocol/device_events.py: one typed class per SPEC §8.2 event (and reply).

`BootEvent(fw_version=..., slot=..., reset_reason=..., device_id=...)`: a misspelt or
missing member fails mypy at the emit site, and `data()` gives the JSON object with the
members in catalogue order. `cmd.ok` has one class per command whose reply carries
fields (`CmdOkStatusEvent`, ...). A member named like a Python keyword gets a trailing
underscore (`StateEvent(from_=..., to=...)` prints `"from"`).
"""

from __future__ import annotations

import keyword
from typing import Final

from protocol.codegen.model import EventField, Model
from protocol.codegen.output import Output, Sources, banner_lines, camel, py_str

PATH = "protocol/device_events.py"
BY_VALUES: Final = {
    "states": "State",
    "commands": "CommandName",
    "command_error_reasons": "CommandErrorReason",
}
BY_TYPE: Final = {
    "str": "str",
    "int": "int",
    "bool": "bool",
    "str_list": "tuple[str, ...]",
    "setting_value": "int | str",
}


def attr(name: str) -> str:
    return name + "_" if keyword.iskeyword(name) else name


def _type(f: EventField) -> str:
    base = BY_VALUES.get(f.values or "", BY_TYPE[f.type])
    return base if f.required else f"{base} | None"


def _member(f: EventField) -> str:
    value = f"self.{attr(f.name)}"
    return f"list({value})" if f.type == "str_list" else value


def _data(fields: tuple[EventField, ...], fixed: tuple[str, str] | None) -> list[str]:
    optional = [f for f in fields if not f.required]
    pairs = ([f"{py_str(fixed[0])}: {fixed[1]}"] if fixed else []) + [
        f"{py_str(f.name)}: {_member(f)}" for f in fields if f.required
    ]
    target = "out: dict[str, object] = " if optional else "return "
    lines = ["    def data(self) -> dict[str, object]:"]
    one = f"        {target}{{{', '.join(pairs)}}}"
    if len(one) <= 100:
        lines.append(one)
    else:
        lines += [f"        {target}{{", *(f"            {p}," for p in pairs), "        }"]
    for f in optional:  # absent, not null, when not given (SPEC §9.3 `message?`)
        lines += [
            f"        if self.{attr(f.name)} is not None:",
            f"            out[{py_str(f.name)}] = self.{attr(f.name)}",
        ]
    return [*lines, "        return out"] if optional else lines


def _class(
    name: str, event: str, doc: str, fields: tuple[EventField, ...], cmd: str | None = None
) -> list[str]:
    lines = ["@dataclass(frozen=True)", f"class {name}(DeviceEvent):", f'    """{doc}"""', ""]
    lines.append(f"    NAME: ClassVar[EventName] = {py_str(event)}")
    if cmd is not None:
        lines.append(f"    CMD: ClassVar[CommandName] = {py_str(cmd)}")
    for f in fields:
        default = "" if f.required else " = None"
        lines.append(f"    {attr(f.name)}: {_type(f)}{default}")
    lines.append("")
    lines += _data(fields, ("cmd", "self.CMD") if cmd is not None else None)
    return [*lines, "", ""]


def _doc(text: str, limit: int = 88) -> str:
    text = text[:1].upper() + text[1:]
    return text if len(text) <= limit else text[: limit - 3].rsplit(" ", 1)[0] + " ..."


def generate(m: Model, sources: Sources) -> Output:
    body = [
        '"""SPEC §8.2 device events as typed classes, for the Python core\'s emit sites.',
        "",
        *banner_lines(sources),
        "",
        "`ctx.emit(BootEvent(...))` prints the line; the C core has the same members in",
        "device_events.h (`EMIT_BOOT(d, .fw_version = ...)`).",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from dataclasses import dataclass",
        "from typing import ClassVar",
        "",
        "from protocol.device_model import CommandErrorReason, CommandName, EventName, State",
        "",
        "",
        "class DeviceEvent:",
        '    """An event line\'s name and JSON object; each generated class is one event."""',
        "",
        "    NAME: ClassVar[EventName]",
        "",
        "    def data(self) -> dict[str, object]:",
        '        """The members in SPEC §8.2 order."""',
        "        raise NotImplementedError",
        "",
        "",
    ]
    for event in m.events:
        doc = _doc(f"`{event.name}`: {event.when}.")
        body += _class(camel(event.name) + "Event", event.name, doc, event.fields)
    ok = next(e for e in m.events if e.name == "cmd.ok")
    for command in m.commands:
        if command.reply:
            doc = _doc(f"`cmd.ok` of `{command.name}` (SPEC §9.3): {command.doc}.")
            name = f"CmdOk{camel(command.name)}Event"
            body += _class(name, ok.name, doc, command.reply, cmd=command.name)
    return Output(PATH, "\n".join(body).rstrip("\n") + "\n")
