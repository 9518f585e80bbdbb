"""Provisioning the reference server from a YAML file (``teddy-server provision``).

The document's model and validation live in `protocol.provision`; this module reads
the file and writes a validated document into the store. Nothing is written unless the
whole file is valid (SPEC §2.7).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from protocol.errors import ProvisioningError
from protocol.provision import ChildEntry, DeviceEntry, Provisioning, parse_provisioning
from server.errors import ConfigurationError
from server.store import Store

__all__ = [
    "ChildEntry",
    "DeviceEntry",
    "Provisioning",
    "apply_provisioning",
    "load_provisioning",
    "parse_provisioning",
]


def load_provisioning(path: Path) -> Provisioning:
    try:
        doc = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot read provisioning YAML: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigurationError(
            f"{path}: cannot read provisioning YAML: {_yaml_problem(exc)}"
        ) from exc
    try:
        return parse_provisioning(doc, source=str(path))
    except ProvisioningError as exc:
        raise ConfigurationError(str(exc)) from exc


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """One line: where the YAML broke and why (the library's message spans lines)."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return f"{where}{problem}"


def apply_provisioning(store: Store, plan: Provisioning, *, now: float) -> None:
    for d in plan.devices:
        store.upsert_device(
            device_id=d.device_id, oob_secret=d.oob_secret, enabled=d.enabled, now=now
        )
    for c in plan.children:
        store.upsert_child(
            child_id=c.child_id,
            name=c.name,
            age=c.age,
            language=c.language,
            consent=c.consent,
            now=now,
        )
    for key, value in plan.config.items():
        store.set_config(key, value)
