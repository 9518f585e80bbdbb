"""Line layout for generated Python: sequences and long strings within 100 columns.

Owns the two layouts the generated modules need so they pass `ruff check` (E501)
without a formatter: a call or literal on one line when it fits, else one item a line;
and a long string split into adjacent literals inside parentheses.
"""

from __future__ import annotations

import textwrap
from typing import Final

from protocol.codegen.output import py_str

WIDTH: Final = 100


def seq(
    head: str, items: list[str], tail: str, indent: int = 0, *, tuple_: bool = False
) -> list[str]:
    """`head item, item tail` on one line if it fits, else one item (and comma) a line.

    `tuple_`: the items form a tuple, so a single one keeps its comma on one line too.
    """
    pad = " " * indent
    joined = ", ".join(items) + ("," if tuple_ and len(items) == 1 else "")
    one = f"{pad}{head}{joined}{tail}"
    if len(one) <= WIDTH and "\n" not in one:
        return [one]
    lines = [f"{pad}{head}"]
    for item in items:
        first, *rest = item.split("\n")
        lines.append(f"{pad}    {first}" + ("" if rest else ","))
        lines += [f"{pad}    {r}" for r in rest[:-1]]
        if rest:
            lines.append(f"{pad}    {rest[-1]},")
    lines.append(f"{pad}{tail}")
    return lines


def text(value: str, column: int) -> str:
    """A string literal starting at `column`; too long, it becomes `(` adjacent literals `)`.

    The multi-line form is meant as a seq() item: seq indents its inner lines by four, so
    the pieces start at `column` + 4.
    """
    literal = py_str(value)
    if column + len(literal) + 1 <= WIDTH:
        return literal
    width = max(20, WIDTH - column - 8)
    chunks = textwrap.wrap(value, width, drop_whitespace=False, break_on_hyphens=False)
    if "".join(chunks) != value:  # textwrap changed whitespace: keep the value exact
        chunks = [value[i : i + width] for i in range(0, len(value), width)]
    return "(\n" + "\n".join(f"    {py_str(c)}" for c in chunks) + "\n)"
