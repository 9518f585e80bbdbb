"""Writes device_events.h/.c: typed builders of every SPEC §8.2 event for the C core.

One struct per event with a member per catalogue field (`teddy_ev_boot_t` has
`fw_version`, `slot`, ...) and a builder that returns the cJSON object with the members
in catalogue order; `EMIT_BOOT(d, .fw_version = ..., ...)` builds and prints it. A field
renamed in the model no longer compiles at its emit site (designated initializers).
`state` fields take teddy_state_t, `cmd` of `cmd.ok` a teddy_cmd_id_t; a NULL string
prints `""` (SPEC §8.1: absent information is ""), an optional one is left out.
"""

from __future__ import annotations

from protocol.codegen.model import EventField, Model
from protocol.codegen.output import Output, Sources, c_banner, c_str, upper

HEADER = "firmware/components/teddy_core/private_include/device_events.h"
SOURCE = "firmware/components/teddy_core/src/device_events.c"
_ENUMS = {"states": ("teddy_state_t", "teddy_state_str"), "commands": ("teddy_cmd_id_t", None)}


def _member(f: EventField) -> list[str]:
    if f.values in _ENUMS:
        return [f"    {_ENUMS[f.values][0]} {f.name};"]
    if f.type == "str":
        note = " /* NULL: left out */" if not f.required else ""
        return [f"    const char *{f.name};{note}"]
    if f.type == "int":
        return [f"    int64_t {f.name};"]
    if f.type == "bool":
        return [f"    bool {f.name};"]
    if f.type == "str_list":
        return [f"    const char *const *{f.name};", f"    size_t n_{f.name};"]
    return [f"    cJSON *{f.name}; /* an integer or string item; the builder takes it */"]


def _add(f: EventField) -> list[str]:
    key, v = c_str(f.name), f"f->{f.name}"
    if f.values == "states":
        return [f"    cJSON_AddStringToObject(o, {key}, teddy_state_str({v}));"]
    if f.values == "commands":
        return [f"    cJSON_AddStringToObject(o, {key}, TEDDY_CMDS[{v}].name);"]
    if f.type == "str" and not f.required:
        return [
            f"    if ({v} != NULL) {{",
            f"        cJSON_AddStringToObject(o, {key}, {v});",
            "    }",
        ]
    if f.type == "str":
        return [f'    cJSON_AddStringToObject(o, {key}, {v} != NULL ? {v} : "");']
    if f.type == "int":
        return [f"    cJSON_AddNumberToObject(o, {key}, (double){v});"]
    if f.type == "bool":
        return [f"    cJSON_AddBoolToObject(o, {key}, {v});"]
    if f.type == "str_list":
        return [
            f"    cJSON *{f.name} = cJSON_AddArrayToObject(o, {key});",
            f"    for (size_t i = 0; {f.name} != NULL && i < f->n_{f.name}; i++) {{",
            f"        cJSON_AddItemToArray({f.name}, cJSON_CreateString({v}[i]));",
            "    }",
        ]
    return [f"    cJSON_AddItemToObject(o, {key}, {v} != NULL ? {v} : cJSON_CreateNull());"]


# (C name, event id, fixed `cmd` of a reply, fields, doc) of one builder.
Builder = tuple[str, str, str | None, tuple[EventField, ...], str]


def _builders(m: Model) -> list[Builder]:
    """Every builder: one per event with members, one per command reply."""
    out: list[Builder] = [
        (
            upper(e.name).lower(),
            f"TEDDY_EVENT_{upper(e.name)}",
            None,
            e.fields,
            f"`{e.name}`: {e.when}",
        )
        for e in m.events
        if e.fields
    ]
    out += [
        (
            f"cmd_ok_{upper(c.name).lower()}",
            "TEDDY_EVENT_CMD_OK",
            c.name,
            c.reply,
            f"`cmd.ok` of `{c.name}` (SPEC §9.3)",
        )
        for c in m.commands
        if c.reply
    ]
    return out


def generate(m: Model, sources: Sources) -> list[Output]:
    builders = _builders(m)
    h = [
        *c_banner(
            sources, "device_events.h - typed SPEC §8.2 event builders (private)."
        ).splitlines(),
        "#pragma once",
        "",
        "#include <stdbool.h>",
        "#include <stddef.h>",
        "#include <stdint.h>",
        "",
        '#include "cJSON.h"',
        '#include "teddy_model.h"',
        "",
    ]
    c = [
        *c_banner(sources, "device_events.c - the builders of device_events.h.").splitlines(),
        '#include "device_events.h"',
        "",
    ]
    for name, _event, cmd, fields, doc in builders:
        h += [f"/* {doc[:90]} */", "typedef struct {"]
        for f in fields:
            h += _member(f)
        h += [f"}} teddy_ev_{name}_t;", f"cJSON *teddy_ev_{name}(const teddy_ev_{name}_t *f);", ""]
        c += [
            f"cJSON *teddy_ev_{name}(const teddy_ev_{name}_t *f)",
            "{",
            "    cJSON *o = cJSON_CreateObject();",
            "    if (o == NULL) {",
            "        return NULL;",
            "    }",
        ]
        if cmd is not None:
            c.append(f'    cJSON_AddStringToObject(o, "cmd", {c_str(cmd)});')
        for f in fields:
            c += _add(f)
        c += ["    return o;", "}", ""]
    h += [
        "/* Print one event (dev_emit_event, device_internal.h): EMIT_<EVENT>(d, .member = ...). */"
    ]
    for e in m.events:
        macro = f"EMIT_{upper(e.name)}"
        if e.fields:
            name = upper(e.name).lower()
            h.append(f"#define {macro}(d, ...) \\")
            h.append(
                f"    dev_emit_event((d), TEDDY_EVENT_{upper(e.name)}, "
                f"teddy_ev_{name}(&(const teddy_ev_{name}_t){{__VA_ARGS__}}))"
            )
        else:
            h.append(f"#define {macro}(d) dev_emit_event((d), TEDDY_EVENT_{upper(e.name)}, NULL)")
    for name, event, cmd, _fields, _doc in builders:
        if cmd is not None:
            h.append(f"#define EMIT_{name.upper()}(d, ...) \\")
            h.append(
                f"    dev_emit_event((d), {event}, teddy_ev_{name}(&(const teddy_ev_{name}_t)"
                "{__VA_ARGS__}))"
            )
    return [Output(HEADER, "\n".join(h) + "\n"), Output(SOURCE, "\n".join(c).rstrip("\n") + "\n")]
