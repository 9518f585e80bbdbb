"""`include`: the steps of a step group file, expanded at load time (hil.scenario.include).

It has no model and no handler: by the time steps are built and run, every include
has been replaced by the steps it names. It is a kind all the same, so the schema,
the valid step names and the README table list it.
"""

from __future__ import annotations

from hil.scenario import fragments as f
from hil.scenario.model import Action
from hil.steps.kind import Doc, StepKind

KIND: StepKind[Action] = StepKind(
    name="include",
    schema=f.line_or("file", {"file": f.STR, "with": {"type": "object"}}),
    doc=Doc(
        form="`common/<file>.yaml` or `{file, with: {param: value}}`",
        does="the steps of a step group",
    ),
)
