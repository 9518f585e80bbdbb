"""C building blocks for the generated headers and tables: enums, name tables, structs.

Owns how a model list becomes C (an enum `TEDDY_<PREFIX>_<NAME>` ending in `_COUNT`, a
`const char *const` table indexed by it) so every generated C file spells them alike.
"""

from __future__ import annotations

from protocol.codegen.output import c_str, upper


def enum(
    type_name: str, prefix: str, names: list[str], doc: str, *, count: str | None = None
) -> list[str]:
    """`typedef enum { PREFIX_A = 0, PREFIX_B, ..., COUNT } type_name;`."""
    lines = [f"/* {doc} */", "typedef enum {"]
    for i, name in enumerate(names):
        lines.append(f"    {prefix}{upper(name)}{' = 0' if i == 0 else ''},")
    lines.append(f"    {count or prefix + 'COUNT'},")
    return [*lines, f"}} {type_name};", ""]


def names_decl(table: str, count: str) -> str:
    return f"extern const char *const {table}[{count}];"


def names_def(table: str, count: str, names: list[str]) -> list[str]:
    lines = [f"const char *const {table}[{count}] = {{"]
    lines += [f"    {c_str(n)}," for n in names]
    return [*lines, "};", ""]


def c_double(value: float | None) -> str:
    if value is None:
        return "0.0"
    return repr(float(value))


def define(name: str, value: str, comment: str = "") -> str:
    line = f"#define {name} {value}"
    return f"{line} /* {comment} */" if comment and len(line) + len(comment) < 94 else line


def wrap_comment(text: str, indent: str = "") -> list[str]:
    """A /* ... */ comment of at most 100 columns."""
    import textwrap

    body = textwrap.wrap(text, 96 - len(indent))
    if len(body) == 1:
        return [f"{indent}/* {body[0]} */"]
    return [f"{indent}/*", *(f"{indent} * {line}" for line in body), f"{indent} */"]
