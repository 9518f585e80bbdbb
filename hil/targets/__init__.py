"""Targets the harness drives: a common interface, a registry, the built-in targets."""

from hil.targets.base import Target, TargetSetup
from hil.targets.registry import all_targets, get_target, register

__all__ = ["Target", "TargetSetup", "all_targets", "get_target", "register"]
