"""Targets the harness drives: a common interface, typed options, a registry, the built-ins."""

from hil.targets.base import ChosenTarget, Target, TargetSetup
from hil.targets.options import NoOptions, OptionError, TargetOptions
from hil.targets.registry import all_targets, choose, get_target, register

__all__ = [
    "ChosenTarget",
    "NoOptions",
    "OptionError",
    "Target",
    "TargetOptions",
    "TargetSetup",
    "all_targets",
    "choose",
    "get_target",
    "register",
]
