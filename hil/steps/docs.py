"""The generated tables of hil/README.md: the step kinds and the built-in invariants.

Each table sits between two marker comments; `python -m hil.steps.docs` rewrites them and
`python -m hil.steps.docs --check` fails (exit 1) when one is stale (`make lint` runs the
check). A step row is a kind's `Doc` plus "needs `cap`" from its `StepKind.needs`; an
invariant row is its id, SPEC section and rule (`hil.rules.invariants`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Final

from hil.errors import HilError
from hil.rules.invariants import INVARIANTS
from hil.steps.kind import StepKind
from hil.steps.registry import all_kinds

README: Final = Path(__file__).resolve().parents[1] / "README.md"
BEGIN: Final = (
    "<!-- step-table:begin (generated from hil/steps/kinds by python -m hil.steps.docs;"
    " do not edit) -->"
)
END: Final = "<!-- step-table:end -->"
HEADER: Final = ("| step | form | waits for / does |", "|---|---|---|")
INVARIANT_BEGIN: Final = (
    "<!-- invariant-table:begin (generated from hil/rules/invariants.py by"
    " python -m hil.steps.docs; do not edit) -->"
)
INVARIANT_END: Final = "<!-- invariant-table:end -->"


class StaleDocsError(HilError):
    """The README has no step table markers, or its table differs from the registry's."""


def row(kind: StepKind[Any]) -> str:
    needs = "; needs " + ", ".join(f"`{cap}`" for cap in kind.needs) if kind.needs else ""
    return f"| `{kind.name}` | {kind.doc.form} | {kind.doc.does}{needs} |"


def render_table(kinds: Iterable[StepKind[Any]] | None = None) -> str:
    """The Markdown table of `kinds` (default: every registered kind)."""
    rows = [row(kind) for kind in (all_kinds() if kinds is None else kinds)]
    return "\n".join((*HEADER, *rows))


def render_invariants() -> str:
    """The Markdown table of the built-in invariants."""
    rows = [f"| `{inv.id}` | {inv.spec} | {inv.requires} |" for inv in INVARIANTS]
    return "\n".join(("| invariant | SPEC | every run must keep |", "|---|---|---|", *rows))


def with_table(text: str, table: str, *, begin: str = BEGIN, end: str = END) -> str:
    """`text` with the part between the markers replaced by `table`."""
    first, last = text.find(begin), text.find(end)
    if first < 0 or last < first:
        what = "step" if begin == BEGIN else "invariant"
        raise StaleDocsError(f"no {what} table markers in the README; put {begin} and {end}")
    return text[: first + len(begin)] + "\n" + table + "\n" + text[last:]


def with_tables(text: str) -> str:
    """`text` with both generated tables rewritten."""
    text = with_table(text, render_table())
    return with_table(text, render_invariants(), begin=INVARIANT_BEGIN, end=INVARIANT_END)


def check(path: Path = README) -> None:
    """Raise StaleDocsError when a table in `path` is not what the code gives."""
    text = path.read_text(encoding="utf-8")
    if with_tables(text) != text:
        raise StaleDocsError(
            f"a generated table in {path} is stale; regenerate it: python -m hil.steps.docs"
        )


def write(path: Path = README) -> bool:
    """Rewrite `path`'s generated tables; True when one changed."""
    text = path.read_text(encoding="utf-8")
    new = with_tables(text)
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m hil.steps.docs",
        description="Write the step and invariant tables of hil/README.md from the code.",
    )
    parser.add_argument("--check", action="store_true", help="only check; exit 1 when stale")
    parser.add_argument("--readme", type=Path, default=README, help="default: %(default)s")
    args = parser.parse_args(argv)
    try:
        if args.check:
            check(args.readme)
            return 0
        changed = write(args.readme)
    except (StaleDocsError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{args.readme}: tables {'rewritten' if changed else 'already up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
