"""The step table of hil/README.md, generated from the registered step kinds.

The table sits between two marker comments; `python -m hil.steps.docs` rewrites it and
`python -m hil.steps.docs --check` fails (exit 1) when it is stale (`make lint` runs
the check). Each row is a kind's `Doc` plus "needs `cap`" from its `StepKind.needs`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Final

from hil.errors import HilError
from hil.steps.kind import StepKind
from hil.steps.registry import all_kinds

README: Final = Path(__file__).resolve().parents[1] / "README.md"
BEGIN: Final = (
    "<!-- step-table:begin (generated from hil/steps/kinds by python -m hil.steps.docs;"
    " do not edit) -->"
)
END: Final = "<!-- step-table:end -->"
HEADER: Final = ("| step | form | waits for / does |", "|---|---|---|")


class StaleDocsError(HilError):
    """The README has no step table markers, or its table differs from the registry's."""


def row(kind: StepKind[Any]) -> str:
    needs = "; needs " + ", ".join(f"`{cap}`" for cap in kind.needs) if kind.needs else ""
    return f"| `{kind.name}` | {kind.doc.form} | {kind.doc.does}{needs} |"


def render_table(kinds: Iterable[StepKind[Any]] | None = None) -> str:
    """The Markdown table of `kinds` (default: every registered kind)."""
    rows = [row(kind) for kind in (all_kinds() if kinds is None else kinds)]
    return "\n".join((*HEADER, *rows))


def with_table(text: str, table: str) -> str:
    """`text` with the part between the markers replaced by `table`."""
    begin, end = text.find(BEGIN), text.find(END)
    if begin < 0 or end < begin:
        raise StaleDocsError(f"no step table markers in the README; put {BEGIN} and {END}")
    return text[: begin + len(BEGIN)] + "\n" + table + "\n" + text[end:]


def check(path: Path = README) -> None:
    """Raise StaleDocsError when `path`'s step table is not the registry's."""
    text = path.read_text(encoding="utf-8")
    if with_table(text, render_table()) != text:
        raise StaleDocsError(
            f"the step table in {path} is stale; regenerate it: python -m hil.steps.docs"
        )


def write(path: Path = README) -> bool:
    """Rewrite `path`'s step table; True when it changed."""
    text = path.read_text(encoding="utf-8")
    new = with_table(text, render_table())
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m hil.steps.docs",
        description="Write the step table of hil/README.md from the registered step kinds.",
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
    print(f"{args.readme}: step table {'rewritten' if changed else 'already up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
