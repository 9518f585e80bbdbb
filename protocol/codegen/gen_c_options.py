"""The console, settings and timing parts of teddy_model.h (see gen_c_model).

Command and refusal-reason enums with the `set` key table, settings defaults as
`TEDDY_DEFAULT_*` macros with the option table teddy-fw-host builds its command line
from, and `teddy_timing_t` with the timing field table.
"""

from __future__ import annotations

from protocol.codegen.cfmt import define, enum, names_decl
from protocol.codegen.model import ARG_FORMS, RULE_KINDS, TIMING_KINDS, Model
from protocol.codegen.output import c_str, upper

C_TIMING_TYPES = {
    "ms": "uint32_t",
    "count": "uint32_t",
    "ratio": "double",
    "ms_or_server": "uint32_t",
}


def console(m: Model) -> list[str]:
    out = enum(
        "teddy_cmd_id_t",
        "TEDDY_CMD_",
        [c.name for c in m.commands],
        "SPEC §9.2 console commands, in `help` order",
    )
    out += enum(
        "teddy_cmd_args_t",
        "TEDDY_ARGS_",
        list(ARG_FORMS),
        "how a command's arguments parse (SPEC §9.1)",
        count="TEDDY_ARGS_FORM_COUNT",
    )
    out += [
        "typedef struct {",
        "    const char *name;",
        "    teddy_cmd_args_t args;",
        "    const char *const *choices; /* NULL-terminated; NULL unless TEDDY_ARGS_CHOICE */",
        "} teddy_cmd_spec_t;",
        "",
        "extern const teddy_cmd_spec_t TEDDY_CMDS[TEDDY_CMD_COUNT];",
        "/** The reply members `cmd.ok` adds for a command (SPEC §9.3), n in *count. */",
        "const teddy_event_field_t *teddy_cmd_reply(teddy_cmd_id_t id, size_t *count);",
        define(
            "TEDDY_CONSOLE_VALID_LIST",
            c_str("valid commands: " + ", ".join(c.name for c in m.commands)),
        ),
        "",
    ]
    reasons = [r.name for r in m.command_error_reasons]
    out += enum(
        "teddy_cmd_err_t",
        "TEDDY_CMD_ERR_",
        ["none", *reasons],
        "SPEC §9.3 cmd.error reasons (NONE: accepted)",
        count="TEDDY_CMD_ERR_COUNT",
    )
    out += [names_decl("TEDDY_CMD_ERR_NAMES", "TEDDY_CMD_ERR_COUNT"), ""]
    out += enum(
        "teddy_set_key_t",
        "TEDDY_SET_",
        [k.key for k in m.set_keys],
        "SPEC §9.2 `set`/`get` keys",
        count="TEDDY_SET_KEY_COUNT",
    )
    out += enum(
        "teddy_rule_t",
        "TEDDY_RULE_",
        list(RULE_KINDS),
        "`set` value rules",
        count="TEDDY_RULE_KIND_COUNT",
    )
    out += [
        "typedef struct {",
        "    const char *key;",
        "    bool is_int;",
        "    teddy_rule_t rule;",
        "    bool has_min, has_max;",
        "    int64_t min, max;",
        "    size_t max_len; /* TEDDY_RULE_ID: at most this many characters */",
        "    const char *ns, *nvs_key; /* where `set` stores it */",
        "    teddy_nvs_type_t nvs_type;",
        "} teddy_set_key_spec_t;",
        "",
        "extern const teddy_set_key_spec_t TEDDY_SET_KEYS[TEDDY_SET_KEY_COUNT];",
        "/** The key's index, TEDDY_SET_KEY_COUNT when it is none. */",
        "teddy_set_key_t teddy_set_key_from_str(const char *key);",
        define("TEDDY_SET_KEYS_LIST", c_str(", ".join(k.key for k in m.set_keys))),
        "",
    ]
    out += enum(
        "teddy_quirk_t",
        "TEDDY_QUIRK_",
        [q.name for q in m.quirks],
        "SPEC Appendix C device quirks (console `quirk on NAME`, --quirk NAME[=VALUE])",
    )
    out += [
        "typedef struct {",
        "    const char *name;",
        "    const char *spec;  /* the SPEC sections it breaks */",
        "    const char *value; /* the metavar of its value, NULL: it takes none */",
        "    bool integer;      /* the value is an integer in min..max */",
        "    long long min;",
        "    long long max;",
        "} teddy_quirk_spec_t;",
        "",
        "extern const teddy_quirk_spec_t TEDDY_QUIRKS[TEDDY_QUIRK_COUNT];",
        "/** The quirk's index, TEDDY_QUIRK_COUNT when `name` is none. */",
        "teddy_quirk_t teddy_quirk_from_str(const char *name);",
        define("TEDDY_QUIRKS_LIST", c_str(", ".join(q.name for q in m.quirks))),
        "",
    ]
    return out


def settings(m: Model) -> list[str]:
    out = ["/* Device settings: defaults of the emulated boards (teddy-fw-host, emulator). */"]
    for s in m.settings:
        if s.type == "optional_int" and s.default is None:
            continue  # no default: the C side keeps a has_ flag (teddy_build_t)
        if s.type in ("int", "optional_int"):
            value = str(s.default)
        else:
            value = "NULL" if s.default is None else c_str(str(s.default))
        out.append(define(f"TEDDY_DEFAULT_{upper(s.name)}", value))
    out += [
        "",
        "#define TEDDY_HOST_EMULATOR 1u /* teddy-emulator */",
        "#define TEDDY_HOST_FW_HOST 2u  /* teddy-fw-host */",
        "",
    ]
    out += enum(
        "teddy_option_type_t",
        "TEDDY_OPT_",
        ["str", "int", "optional_str", "optional_int"],
        "value types of settings and options",
        count="TEDDY_OPT_TYPE_COUNT",
    )
    out += [
        "typedef struct {",
        "    const char *name;",
        "    const char *flag; /* --device-id */",
        "    teddy_option_type_t type;",
        "    const char *default_text; /* NULL: none */",
        "    const char *cli_default; /* the command line's default, NULL: none */",
        "    const char *help;",
        "    unsigned hosts; /* TEDDY_HOST_* bits */",
        "    bool build, required, repeat;",
        "    bool has_min, has_max;",
        "    int64_t min, max;",
        "    const char *pattern; /* POSIX ERE the whole value matches, or NULL */",
        "    const char *const *choices; /* NULL-terminated, or NULL */",
        "    const char *metavar;",
        "} teddy_option_spec_t;",
        "",
    ]
    out += enum(
        "teddy_setting_t",
        "TEDDY_SETTING_",
        [s.name for s in m.settings],
        "device settings (the `settings:` table)",
    )
    out += ["extern const teddy_option_spec_t TEDDY_SETTINGS[TEDDY_SETTING_COUNT];", ""]
    out += enum(
        "teddy_host_option_t",
        "TEDDY_HOST_OPT_",
        [o.name for o in m.host_options],
        "other command-line options of the emulated boards",
    )
    out += ["extern const teddy_option_spec_t TEDDY_HOST_OPTIONS[TEDDY_HOST_OPT_COUNT];", ""]
    return out


def timing(m: Model) -> list[str]:
    out = [
        "/** Every delay the core waits for, in ms of uptime (the model's `timing:`; the",
        " * driver fields such as wifi_join_ms are the port's options). */",
        "typedef struct {",
    ]
    for t in m.timing:
        if not t.driver:
            note = " /* 0: the server's value */" if t.kind == "ms_or_server" else ""
            out.append(f"    {C_TIMING_TYPES[t.kind]} {t.name};{note}")
    out += ["} teddy_timing_t;", ""]
    out += enum(
        "teddy_timing_kind_t",
        "TEDDY_TIMING_",
        list(TIMING_KINDS),
        "timing field kinds",
        count="TEDDY_TIMING_KIND_COUNT",
    )
    out += [
        "typedef struct {",
        "    const char *name;",
        "    teddy_timing_kind_t kind;",
        "    bool driver;   /* a port option: not in teddy_timing_t */",
        "    size_t offset; /* in teddy_timing_t (0 for driver fields) */",
        "    double fast, real; /* defaults (ms_or_server: 0 = the server's) */",
        "    const char *spec;",
        "} teddy_timing_field_t;",
        "",
        define("TEDDY_TIMING_FIELD_COUNT", str(len(m.timing))),
        "extern const teddy_timing_field_t TEDDY_TIMING_FIELDS[TEDDY_TIMING_FIELD_COUNT];",
        "/** The field named `name`, NULL when there is none. */",
        "const teddy_timing_field_t *teddy_timing_field(const char *name);",
        "",
    ]
    return out
