"""`StepKind`: everything about one kind of scenario step, declared in one place.

A step kind module (`hil/steps/kinds/<name>.py`) defines its frozen model (an
`hil.scenario.model.Action`), its builder and its handler, and ends with
`KIND = StepKind(...)`. From these the harness generates the step part of the JSON
Schema, the list of valid step names in load errors and the step table of
hil/README.md (`python -m hil.steps.docs`).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar

from hil.scenario.fragments import Schema
from hil.scenario.model import Action, Step
from hil.steps.build import At
from hil.steps.context import StepContext

A = TypeVar("A", bound=Action)
NAME_PATTERN: Final = re.compile(r"[a-z][a-z0-9_]*")

Builder = Callable[[Any, At], A]  # schema-valid YAML value -> model; raises InvalidStepError
Handler = Callable[[StepContext, A, Step], Awaitable[None]]  # raises StepFailedError


@dataclass(frozen=True)
class Doc:
    """The step's row in hil/README.md: how it is written, what it waits for or does."""

    form: str  # Markdown; `|` inside a table cell is written `\\|`
    does: str  # "; needs `cap`, ..." is added from StepKind.needs


@dataclass(frozen=True)
class StepKind(Generic[A]):
    """One step kind: its name, schema fragment, model, builder, handler and doc row.

    `needs` are capabilities every step of this kind needs (values may add more through
    `Action.needs`). A kind without model, builder and handler is expanded at load
    time (`include`) and never runs.
    """

    name: str
    schema: Schema
    doc: Doc
    model: type[A] | None = None
    build: Builder[A] | None = None
    run: Handler[A] | None = None
    needs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not NAME_PATTERN.fullmatch(self.name):
            raise ValueError(f"step kind name {self.name!r}: use lower_case_with_underscores")
        parts = (self.model, self.build, self.run)
        if any(p is None for p in parts) and any(p is not None for p in parts):
            raise ValueError(
                f"step kind {self.name!r}: give model, build and run together "
                "(or none of them for a kind expanded at load time)"
            )

    @property
    def expanded_at_load(self) -> bool:
        """True for kinds the loader replaces before building (`include`)."""
        return self.model is None
