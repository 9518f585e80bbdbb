"""Writes the teddy_model component's header (teddy_model.h) from the device model.

Enums with their string tables (states, timers and their owning modules, reset and
rollback reasons, slots, capture kinds, input and effect kinds, events, console commands
and refusal reasons, `set` keys, settings), the event and input/effect field tables,
NVS keys (as `ns, key` argument pairs); the console, settings and timing parts come from
`gen_c_options`, the tables themselves from `gen_c_tables` (teddy_model.c).
"""

from __future__ import annotations

from protocol.codegen.cfmt import define, enum, names_decl, wrap_comment
from protocol.codegen.gen_c_options import console, settings, timing
from protocol.codegen.model import (
    EVENT_TYPES,
    IO_TYPES,
    NVS_TYPES,
    VOCABULARIES,
    Model,
)
from protocol.codegen.output import Output, Sources, c_banner, c_str, upper

HEADER = "firmware/components/teddy_model/include/teddy_model.h"


def _vocab(m: Model) -> list[str]:
    out = enum("teddy_state_t", "TEDDY_STATE_", [s.name for s in m.states], "SPEC §8.3 states")
    out += [
        names_decl("TEDDY_STATE_NAMES", "TEDDY_STATE_COUNT"),
        '/** SPEC §8.3 name ("idle", ...); "unknown" out of range. */',
        "const char *teddy_state_str(teddy_state_t state);",
        "",
    ]
    out += enum(
        "teddy_module_t",
        "TEDDY_MODULE_",
        list(m.timer_owners),
        "core modules that own timers (device_auth.c, device_link.c, ...)",
    )
    out += enum("teddy_timer_t", "TEDDY_TIMER_", [t.name for t in m.timers], "the core's timers")
    out += [
        names_decl("TEDDY_TIMER_NAMES", "TEDDY_TIMER_COUNT"),
        "extern const teddy_module_t TEDDY_TIMER_OWNERS[TEDDY_TIMER_COUNT];",
        "bool teddy_timer_from_str(const char *name, teddy_timer_t *out);",
        "",
    ]
    out += enum(
        "teddy_reset_reason_t",
        "TEDDY_RESET_",
        [r.name for r in m.reset_reasons],
        "SPEC §8.2 reset_reason",
    )
    out += [
        names_decl("TEDDY_RESET_REASON_NAMES", "TEDDY_RESET_COUNT"),
        "bool teddy_reset_reason_from_str(const char *name, teddy_reset_reason_t *out);",
        "/** True for the reset reasons that are crashes (a SPEC §5.5 rollback reason). */",
        "bool teddy_reset_reason_is_crash(const char *name);",
        "",
    ]
    out += ["/* SPEC §5.5 rollback reasons besides the crash reset reasons. */"]
    out += [define(f"TEDDY_ROLLBACK_{upper(r.name)}", c_str(r.name)) for r in m.rollback_reasons]
    out += ["bool teddy_rollback_reason_valid(const char *name);", ""]
    out += [
        define("TEDDY_SLOT_COUNT", str(len(m.slots)), "OTA app slots: index 0 and 1"),
        names_decl("TEDDY_SLOT_NAMES", "TEDDY_SLOT_COUNT"),
        '/** "ota_0" / "ota_1"; "" out of range. */',
        "const char *teddy_slot_name(int slot);",
        "/** The slot index of a name, -1 when it is none. */",
        "int teddy_slot_from_str(const char *name);",
        "",
    ]
    out += enum(
        "teddy_capture_kind_t",
        "TEDDY_CAPTURE_",
        [c.name for c in m.capture_kinds],
        "audio sources of start_capture",
        count="TEDDY_CAPTURE_KIND_COUNT",
    )
    out += [names_decl("TEDDY_CAPTURE_KIND_NAMES", "TEDDY_CAPTURE_KIND_COUNT"), ""]
    out += wrap_comment(
        "The emulated-firmware misbehaviour marker of test images (a JSON object "
        "follows it); host ports only, never a real board."
    )
    out += [define("TEDDY_BEHAVIOUR_MARKER", c_str(m.behaviour_prefix))]
    out += [
        define(f"TEDDY_BEHAVIOUR_{upper(k.name)}", c_str(k.name), k.type) for k in m.behaviour_keys
    ]
    out += [
        "",
        "/* SPEC §8.2 ota.none reasons, token.refresh.fail{next}, the device's error codes. */",
    ]
    out += [define(f"TEDDY_OTA_NONE_{upper(r)}", c_str(r)) for r in m.ota_none_reasons]
    out += [define(f"TEDDY_REFRESH_NEXT_{upper(r)}", c_str(r)) for r in m.refresh_next]
    out += [define(f"TEDDY_ERROR_{upper(c.name)}", c_str(c.name)) for c in m.local_error_codes]
    return [*out, ""]


def _io(m: Model) -> list[str]:
    out = enum(
        "teddy_io_type_t",
        "TEDDY_IO_",
        list(IO_TYPES),
        "field types of inputs and effects (canonical JSON: teddy_canon.h)",
    )
    out += [
        "typedef struct {",
        "    const char *name;",
        "    teddy_io_type_t type;",
        "    bool has_default; /* may be left out of canonical JSON that is read */",
        "} teddy_io_field_t;",
        "",
        "typedef struct {",
        "    const char *name; /* canonical `kind` */",
        "    const teddy_io_field_t *fields; /* in canonical order */",
        "    size_t n_fields;",
        "} teddy_io_kind_t;",
        "",
    ]
    out += enum(
        "teddy_input_kind_t", "TEDDY_IN_", [k.name for k in m.inputs], "inputs: drivers -> core"
    )
    out += ["extern const teddy_io_kind_t TEDDY_INPUT_KINDS[TEDDY_IN_COUNT];", ""]
    out += enum(
        "teddy_effect_kind_t", "TEDDY_FX_", [k.name for k in m.effects], "effects: core -> drivers"
    )
    out += ["extern const teddy_io_kind_t TEDDY_EFFECT_KINDS[TEDDY_FX_COUNT];", ""]
    return out


def _events(m: Model) -> list[str]:
    out = enum("teddy_event_type_t", "TEDDY_EV_", list(EVENT_TYPES), "event member types")
    out += enum(
        "teddy_vocab_t",
        "TEDDY_VOCAB_",
        ["none", *VOCABULARIES],
        "closed lists an event member's value comes from",
    )
    out += [
        "typedef struct {",
        "    const char *name;",
        "    teddy_event_type_t type;",
        "    teddy_vocab_t values; /* TEDDY_VOCAB_NONE: any value of the type */",
        "    bool required;",
        "} teddy_event_field_t;",
        "",
        "typedef struct {",
        "    const char *name;",
        "    const teddy_event_field_t *fields; /* in SPEC §8.2 order */",
        "    size_t n_fields;",
        "} teddy_event_spec_t;",
        "",
    ]
    out += enum(
        "teddy_event_id_t",
        "TEDDY_EVENT_",
        [e.name for e in m.events],
        "SPEC §8.2 events, in catalogue order",
    )
    out += [
        "extern const teddy_event_spec_t TEDDY_EVENTS[TEDDY_EVENT_COUNT];",
        "/** The catalogue entry of `name`, NULL when the event is unknown. */",
        "const teddy_event_spec_t *teddy_event_spec(const char *name);",
        "/** True when `value` is in the closed list (always for TEDDY_VOCAB_NONE). */",
        "bool teddy_vocab_has(teddy_vocab_t vocab, const char *value);",
        "",
    ]
    return out


def _nvs(m: Model) -> list[str]:
    out = enum("teddy_nvs_type_t", "TEDDY_NVS_", list(NVS_TYPES), "NVS value types")
    out += [
        "typedef struct {",
        "    const char *ns, *key;",
        "    teddy_nvs_type_t type;",
        "} teddy_nvs_key_t;",
        "",
        "/* NVS namespaces (ESP-IDF: at most 15 characters). */",
    ]
    out += [define(f"TEDDY_NS_{upper(ns.name)}", c_str(ns.name), ns.doc[:60]) for ns in m.nvs]
    out += [
        "",
        "/* NVS keys as the `ns, key` argument pair: dev_nvs_str(d, TEDDY_NVS_AUTH_...). */",
    ]
    for ns in m.nvs:
        for k in ns.keys:
            out.append(
                define(
                    f"TEDDY_NVS_{upper(ns.name)}_{upper(k.key)}",
                    f"TEDDY_NS_{upper(ns.name)}, {c_str(k.key)}",
                    k.type,
                )
            )
    count = sum(len(ns.keys) for ns in m.nvs)
    erase = [ns for ns in m.nvs if ns.factory_reset]
    out += [
        "",
        define("TEDDY_NVS_KEY_COUNT", str(count)),
        "extern const teddy_nvs_key_t TEDDY_NVS_KEYS[TEDDY_NVS_KEY_COUNT];",
        "/** The model's entry for ns/key, NULL when it is not a key of the model. */",
        "const teddy_nvs_key_t *teddy_nvs_key_find(const char *ns, const char *key);",
        "/* SPEC §9.2 factory-reset erases these namespaces; the others survive it. */",
        define("TEDDY_FACTORY_RESET_NS_COUNT", str(len(erase))),
        names_decl("TEDDY_FACTORY_RESET_NS", "TEDDY_FACTORY_RESET_NS_COUNT"),
        "",
    ]
    return out


def generate(m: Model, sources: Sources) -> Output:
    title = "teddy_model.h - the device model of protocol/device_model.yaml for the C core."
    head = c_banner(sources, title).splitlines()
    body = [
        *head,
        "#pragma once",
        "",
        "#include <stdbool.h>",
        "#include <stddef.h>",
        "#include <stdint.h>",
        "",
        "#ifdef __cplusplus",
        'extern "C" {',
        "#endif",
        "",
        define("TEDDY_MODEL_SHA256", c_str(sources.model_sha256)),
        "",
    ]
    body += _vocab(m) + _io(m) + _events(m) + _nvs(m) + console(m) + settings(m) + timing(m)
    body += ["/* Device-side constants both cores share. */"]
    for c in m.constants:
        value = str(c.value) if c.type == "int" else c_str(str(c.value))
        body += [*wrap_comment(c.doc), define(f"TEDDY_{upper(c.name)}", value)]
    body += ["", "#ifdef __cplusplus", "}", "#endif"]
    return Output(HEADER, "\n".join(body) + "\n")
