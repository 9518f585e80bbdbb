"""`set_config`: override keys of the config the server serves (SPEC §4.1)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hil.scenario.model import Action, Step
from hil.scenario.values import substitute
from hil.steps.build import At
from hil.steps.context import StepContext
from hil.steps.kind import Doc, StepKind
from hil.targets.base import SERVER_CONTROL
from protocol.config_doc import CONFIG_KEYS


@dataclass(frozen=True)
class SetConfig(Action):
    values: Mapping[str, object]


def build(value: Any, at: At) -> SetConfig:
    return SetConfig(dict(value))


async def run(ctx: StepContext, action: SetConfig, step: Step) -> None:
    for key, value in action.values.items():
        await ctx.server.set_config(key, substitute(value, ctx.variables))


KIND = StepKind(
    name="set_config",
    schema={"type": "object", "propertyNames": {"enum": list(CONFIG_KEYS)}},
    model=SetConfig,
    build=build,
    run=run,
    needs=(SERVER_CONTROL,),
    doc=Doc(form="`{key: value}`", does="server config override (SPEC §4.1 keys)"),
)
