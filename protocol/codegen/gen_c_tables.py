"""Writes teddy_model.c: the tables teddy_model.h declares and their small lookups.

Plain C11 with no dependency (not even teddy_err.h), so both the core and the ports
(teddy_port needs slots, reset reasons and the behaviour marker) link it.
"""

from __future__ import annotations

from protocol.codegen.cfmt import c_double, names_def
from protocol.codegen.model import VOCABULARIES, EventField, Model, Setting
from protocol.codegen.output import Output, Sources, c_banner, c_str, upper

SOURCE = "firmware/components/teddy_model/teddy_model.c"


def _event_fields(var: str, fields: tuple[EventField, ...]) -> list[str]:
    if not fields:
        return []
    lines = [f"static const teddy_event_field_t {var}[] = {{"]
    for f in fields:
        vocab = f"TEDDY_VOCAB_{upper(f.values)}" if f.values else "TEDDY_VOCAB_NONE"
        lines.append(
            f"    {{{c_str(f.name)}, TEDDY_EV_{upper(f.type)}, {vocab}, "
            f"{'true' if f.required else 'false'}}},"
        )
    return [*lines, "};"]


def _events(m: Model) -> list[str]:
    out: list[str] = []
    for e in m.events:
        out += _event_fields(f"EV_{upper(e.name)}", e.fields)
    out += ["", "const teddy_event_spec_t TEDDY_EVENTS[TEDDY_EVENT_COUNT] = {"]
    for e in m.events:
        var = f"EV_{upper(e.name)}"
        fields = f"{var}, sizeof({var}) / sizeof({var}[0])" if e.fields else "NULL, 0"
        out.append(f"    {{{c_str(e.name)}, {fields}}},")
    out += ["};", ""]
    for v in VOCABULARIES:
        out += [f"static const char *const VOCAB_{upper(v)}[] = {{"]
        out += [f"    {c_str(x)}," for x in m.vocabulary(v)] + ["    NULL,", "};"]
    out += ["", "static const char *const *const VOCABS[] = {", "    NULL,"]
    out += [f"    VOCAB_{upper(v)}," for v in VOCABULARIES] + ["};", ""]
    return out


def _io(m: Model) -> list[str]:
    out: list[str] = []
    for title, prefix, kinds in (("INPUT", "IN", m.inputs), ("EFFECT", "FX", m.effects)):
        for kind in kinds:
            if kind.fields:
                out.append(f"static const teddy_io_field_t {prefix}_{upper(kind.name)}[] = {{")
                out += [
                    f"    {{{c_str(f.name)}, TEDDY_IO_{upper(f.type)}, "
                    f"{'true' if f.has_default else 'false'}}},"
                    for f in kind.fields
                ]
                out.append("};")
        count = "TEDDY_IN_COUNT" if prefix == "IN" else "TEDDY_FX_COUNT"
        out += [f"const teddy_io_kind_t TEDDY_{title}_KINDS[{count}] = {{"]
        for kind in kinds:
            var = f"{prefix}_{upper(kind.name)}"
            fields = f"{var}, sizeof({var}) / sizeof({var}[0])" if kind.fields else "NULL, 0"
            out.append(f"    {{{c_str(kind.name)}, {fields}}},")
        out += ["};", ""]
    return out


def _nvs(m: Model) -> list[str]:
    out = ["const teddy_nvs_key_t TEDDY_NVS_KEYS[TEDDY_NVS_KEY_COUNT] = {"]
    for ns in m.nvs:
        out += [
            f"    {{TEDDY_NVS_{upper(ns.name)}_{upper(k.key)}, TEDDY_NVS_{upper(k.type)}}},"
            for k in ns.keys
        ]
    out += ["};", ""]
    out += names_def(
        "TEDDY_FACTORY_RESET_NS",
        "TEDDY_FACTORY_RESET_NS_COUNT",
        [ns.name for ns in m.nvs if ns.factory_reset],
    )
    return out


def _console(m: Model) -> list[str]:
    out: list[str] = []
    for c in m.commands:
        if c.choices:
            choices = ", ".join(c_str(x) for x in c.choices)
            out.append(f"static const char *const CHOICES_{upper(c.name)}[] = {{{choices}, NULL}};")
        out += _event_fields(f"REPLY_{upper(c.name)}", c.reply)
    out += ["", "const teddy_cmd_spec_t TEDDY_CMDS[TEDDY_CMD_COUNT] = {"]
    for c in m.commands:
        choices = f"CHOICES_{upper(c.name)}" if c.choices else "NULL"
        out.append(f"    {{{c_str(c.name)}, TEDDY_ARGS_{upper(c.args)}, {choices}}},")
    out += ["};", "", "static const teddy_event_field_t *const REPLIES[TEDDY_CMD_COUNT] = {"]
    out += [f"    {'REPLY_' + upper(c.name) if c.reply else 'NULL'}," for c in m.commands]
    out += ["};", "static const size_t REPLY_COUNTS[TEDDY_CMD_COUNT] = {"]
    out += [f"    {len(c.reply)}," for c in m.commands] + ["};", ""]
    out += names_def(
        "TEDDY_CMD_ERR_NAMES",
        "TEDDY_CMD_ERR_COUNT",
        ["", *(r.name for r in m.command_error_reasons)],
    )
    out += ["const teddy_set_key_spec_t TEDDY_SET_KEYS[TEDDY_SET_KEY_COUNT] = {"]
    for k in m.set_keys:
        out.append(
            f"    {{{c_str(k.key)}, {'true' if k.type == 'int' else 'false'}, "
            f"TEDDY_RULE_{upper(k.rule)}, {'true' if k.min is not None else 'false'}, "
            f"{'true' if k.max is not None else 'false'}, {k.min or 0}, {k.max or 0}, "
            f"{k.max_len or 0}, TEDDY_NVS_{upper(k.nvs.namespace)}_{upper(k.nvs.key)}, "
            f"TEDDY_NVS_{upper(k.nvs.type)}}},"
        )
    out += ["};", "", "const teddy_quirk_spec_t TEDDY_QUIRKS[TEDDY_QUIRK_COUNT] = {"]
    for q in m.quirks:
        value = c_str(q.value) if q.value is not None else "NULL"
        rng = f"true, {q.min}LL, {q.max}LL" if q.min is not None else "false, 0, 0"
        out.append(f"    {{{c_str(q.name)}, {c_str(q.spec)}, {value}, {rng}}},")
    return [*out, "};", ""]


def _option(s: Setting, m: Model, var: str) -> tuple[list[str], str]:
    values = s.choices
    if s.choices_from == "chip_ids":
        from protocol.constants import CHIP_IDS

        values = tuple(CHIP_IDS)
    elif s.choices_from is not None:
        values = m.vocabulary(s.choices_from)
    pre: list[str] = []
    choices = "NULL"
    if values:
        pre = [
            f"static const char *const {var}[] = {{{', '.join(c_str(v) for v in values)}, NULL}};"
        ]
        choices = var
    hosts = " | ".join(f"TEDDY_HOST_{upper(h)}" for h in s.hosts)
    default = "NULL" if s.default is None else c_str(str(s.default))
    cli = "NULL" if s.effective_cli_default is None else c_str(str(s.effective_cli_default))
    typ = f"TEDDY_OPT_{upper(s.type)}"
    row = (
        f"    {{{c_str(s.name)}, {c_str(s.flag)}, {typ}, {default}, {cli},\n"
        f"     {c_str(s.help)},\n"
        f"     {hosts}, {_b(s.build)}, {_b(s.required)}, {_b(s.repeat)}, "
        f"{_b(s.min is not None)}, {_b(s.max is not None)}, {s.min or 0}LL, {s.max or 0}LL, "
        f"{c_str(s.pattern) if s.pattern else 'NULL'}, "
        f"{choices}, {c_str(s.metavar) if s.metavar else 'NULL'}}},"
    )
    return pre, row


def _b(value: bool) -> str:
    return "true" if value else "false"


def _settings(m: Model) -> list[str]:
    out: list[str] = []
    for table, items, count in (
        ("TEDDY_SETTINGS", m.settings, "TEDDY_SETTING_COUNT"),
        ("TEDDY_HOST_OPTIONS", m.host_options, "TEDDY_HOST_OPT_COUNT"),
    ):
        rows: list[str] = []
        for s in items:
            pre, row = _option(s, m, f"CHOICES_{table}_{upper(s.name)}")
            out += pre
            rows.append(row)
        out += [f"const teddy_option_spec_t {table}[{count}] = {{", *rows, "};", ""]
    return out


def _timing(m: Model) -> list[str]:
    out = ["const teddy_timing_field_t TEDDY_TIMING_FIELDS[TEDDY_TIMING_FIELD_COUNT] = {"]
    for t in m.timing:
        offset = "0" if t.driver else f"offsetof(teddy_timing_t, {t.name})"
        out.append(
            f"    {{{c_str(t.name)}, TEDDY_TIMING_{upper(t.kind)}, {_b(t.driver)}, {offset}, "
            f"{c_double(t.fast)}, {c_double(t.real)}, {c_str(t.spec)}}},"
        )
    return [*out, "};", ""]


FUNCTIONS = r"""
static int find(const char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; name != NULL && i < n; i++) {
        if (strcmp(names[i], name) == 0) {
            return (int)i;
        }
    }
    return -1;
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char *teddy_state_str(teddy_state_t state)
{
    return (unsigned)state < TEDDY_STATE_COUNT ? TEDDY_STATE_NAMES[state] : "unknown";
}

bool teddy_timer_from_str(const char *name, teddy_timer_t *out)
{
    int i = find(TEDDY_TIMER_NAMES, TEDDY_TIMER_COUNT, name);
    if (i >= 0) {
        *out = (teddy_timer_t)i;
    }
    return i >= 0;
}

bool teddy_reset_reason_from_str(const char *name, teddy_reset_reason_t *out)
{
    int i = find(TEDDY_RESET_REASON_NAMES, TEDDY_RESET_COUNT, name);
    if (i >= 0) {
        *out = (teddy_reset_reason_t)i;
    }
    return i >= 0;
}

bool teddy_reset_reason_is_crash(const char *name)
{
    return find(CRASH_REASONS, COUNT(CRASH_REASONS), name) >= 0;
}

bool teddy_rollback_reason_valid(const char *name)
{
    return teddy_vocab_has(TEDDY_VOCAB_ROLLBACK_REASONS, name);
}

const char *teddy_slot_name(int slot)
{
    return slot >= 0 && slot < TEDDY_SLOT_COUNT ? TEDDY_SLOT_NAMES[slot] : "";
}

int teddy_slot_from_str(const char *name) { return find(TEDDY_SLOT_NAMES, TEDDY_SLOT_COUNT, name); }

const teddy_event_spec_t *teddy_event_spec(const char *name)
{
    for (size_t i = 0; name != NULL && i < TEDDY_EVENT_COUNT; i++) {
        if (strcmp(TEDDY_EVENTS[i].name, name) == 0) {
            return &TEDDY_EVENTS[i];
        }
    }
    return NULL;
}

bool teddy_vocab_has(teddy_vocab_t vocab, const char *value)
{
    if (vocab == TEDDY_VOCAB_NONE) {
        return true;
    }
    if ((size_t)vocab >= COUNT(VOCABS) || value == NULL) {
        return false;
    }
    for (const char *const *v = VOCABS[vocab]; *v != NULL; v++) {
        if (strcmp(*v, value) == 0) {
            return true;
        }
    }
    return false;
}

const teddy_nvs_key_t *teddy_nvs_key_find(const char *ns, const char *key)
{
    for (size_t i = 0; ns != NULL && key != NULL && i < TEDDY_NVS_KEY_COUNT; i++) {
        if (strcmp(TEDDY_NVS_KEYS[i].ns, ns) == 0 && strcmp(TEDDY_NVS_KEYS[i].key, key) == 0) {
            return &TEDDY_NVS_KEYS[i];
        }
    }
    return NULL;
}

const teddy_event_field_t *teddy_cmd_reply(teddy_cmd_id_t id, size_t *count)
{
    bool ok = (unsigned)id < TEDDY_CMD_COUNT;
    *count = ok ? REPLY_COUNTS[id] : 0;
    return ok ? REPLIES[id] : NULL;
}

teddy_set_key_t teddy_set_key_from_str(const char *key)
{
    for (int i = 0; key != NULL && i < TEDDY_SET_KEY_COUNT; i++) {
        if (strcmp(TEDDY_SET_KEYS[i].key, key) == 0) {
            return (teddy_set_key_t)i;
        }
    }
    return TEDDY_SET_KEY_COUNT;
}

teddy_quirk_t teddy_quirk_from_str(const char *name)
{
    for (int i = 0; name != NULL && i < TEDDY_QUIRK_COUNT; i++) {
        if (strcmp(TEDDY_QUIRKS[i].name, name) == 0) {
            return (teddy_quirk_t)i;
        }
    }
    return TEDDY_QUIRK_COUNT;
}

const teddy_timing_field_t *teddy_timing_field(const char *name)
{
    for (size_t i = 0; name != NULL && i < TEDDY_TIMING_FIELD_COUNT; i++) {
        if (strcmp(TEDDY_TIMING_FIELDS[i].name, name) == 0) {
            return &TEDDY_TIMING_FIELDS[i];
        }
    }
    return NULL;
}
"""


def generate(m: Model, sources: Sources) -> Output:
    title = "teddy_model.c - the tables of teddy_model.h (protocol/device_model.yaml)."
    body = [
        *c_banner(sources, title).splitlines(),
        "#include <stddef.h>",
        "#include <string.h>",
        "",
        '#include "teddy_model.h"',
        "",
    ]
    body += names_def("TEDDY_STATE_NAMES", "TEDDY_STATE_COUNT", [s.name for s in m.states])
    body += names_def("TEDDY_TIMER_NAMES", "TEDDY_TIMER_COUNT", [t.name for t in m.timers])
    body += ["const teddy_module_t TEDDY_TIMER_OWNERS[TEDDY_TIMER_COUNT] = {"]
    body += [f"    TEDDY_MODULE_{upper(t.owner)}," for t in m.timers] + ["};", ""]
    body += names_def(
        "TEDDY_RESET_REASON_NAMES", "TEDDY_RESET_COUNT", [r.name for r in m.reset_reasons]
    )
    crash = ", ".join(c_str(r) for r in m.crash_reasons)
    body += [f"static const char *const CRASH_REASONS[] = {{{crash}}};", ""]
    body += names_def("TEDDY_SLOT_NAMES", "TEDDY_SLOT_COUNT", list(m.slots))
    body += names_def(
        "TEDDY_CAPTURE_KIND_NAMES", "TEDDY_CAPTURE_KIND_COUNT", [c.name for c in m.capture_kinds]
    )
    body += _io(m) + _events(m) + _nvs(m) + _console(m) + _settings(m) + _timing(m)
    body += FUNCTIONS.strip("\n").splitlines()
    return Output(SOURCE, "\n".join(body) + "\n")
