"""Provisioning documents: which devices and children a server knows, and its config.

Owns the typed model (`Provisioning` of `DeviceEntry`, `ChildEntry` and config keys of
SPEC §4.1) and its validation. A production server knows only what was provisioned
(SPEC §2.7); the reference server applies a document from ``teddy-server provision``
and the harness from a scenario's ``given:``. Errors name the entry and field
(``devices[2].oob_secret: ...``) and the whole document is checked before anything is
used, so a typo never leaves a half-provisioned fleet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from protocol.config_doc import CONFIG_KEYS
from protocol.constants import MAX_CHILD_AGE, MIN_CHILD_AGE
from protocol.crypto import derive_oob_secret
from protocol.errors import ProvisioningError

_DEVICE_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
_CHILD_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_HEX64 = re.compile(r"[0-9A-Fa-f]{64}")


@dataclass(frozen=True)
class DeviceEntry:
    device_id: str
    oob_secret: str
    enabled: bool


@dataclass(frozen=True)
class ChildEntry:
    child_id: str
    name: str
    age: int
    language: str
    consent: bool


@dataclass
class Provisioning:
    devices: list[DeviceEntry] = field(default_factory=list)
    children: list[ChildEntry] = field(default_factory=list)
    config: dict[str, object] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        """The document `parse_provisioning` reads (the harness admin API's body, SPEC §11.3)."""
        return {
            "devices": [vars(d).copy() for d in self.devices],
            "children": [vars(c).copy() for c in self.children],
            "config": dict(self.config),
        }

    @property
    def empty(self) -> bool:
        return not (self.devices or self.children or self.config)


def _fail(where: str, problem: str) -> ProvisioningError:
    return ProvisioningError(f"{where}: {problem}")


def parse_provisioning(doc: object, *, source: str = "<provisioning>") -> Provisioning:
    """Validate a provisioning document; raises ProvisioningError naming the bad field."""
    if not isinstance(doc, dict):
        raise _fail(source, "top level must be a mapping with devices/children/config")
    unknown = set(doc) - {"devices", "children", "config"}
    if unknown:
        raise _fail(source, f"unknown keys {sorted(unknown)}; valid: devices, children, config")
    result = Provisioning()
    for i, item in enumerate(doc.get("devices") or []):
        result.devices.append(_device(item, f"{source}: devices[{i}]"))
    for i, item in enumerate(doc.get("children") or []):
        result.children.append(_child(item, f"{source}: children[{i}]"))
    config = doc.get("config") or {}
    if not isinstance(config, dict) or set(config) - set(CONFIG_KEYS):
        raise _fail(f"{source}: config", f"a mapping of keys from {', '.join(CONFIG_KEYS)}")
    result.config = dict(config)
    return result


def _device(item: object, where: str) -> DeviceEntry:
    if not isinstance(item, dict):
        raise _fail(where, "must be a mapping with device_id and optional oob_secret, enabled")
    device_id = item.get("device_id")
    if not isinstance(device_id, str) or not _DEVICE_ID.fullmatch(device_id):
        raise _fail(f"{where}.device_id", "8-64 characters of A-Z a-z 0-9 _ -")
    secret = item.get("oob_secret", "seed")
    if secret == "seed":  # noqa: S105 - the keyword, not a secret
        secret = derive_oob_secret(device_id)  # the development seed derivation (SPEC §2.1)
    if not isinstance(secret, str) or not _HEX64.fullmatch(secret):
        raise _fail(f"{where}.oob_secret", "64 hex characters, or 'seed' for the seed derivation")
    enabled = item.get("enabled", True)
    if not isinstance(enabled, bool):
        raise _fail(f"{where}.enabled", "true or false")
    return DeviceEntry(device_id, secret.upper(), enabled)


def _child(item: object, where: str) -> ChildEntry:
    if not isinstance(item, dict):
        raise _fail(where, "must be a mapping with child_id, name, age, consent")
    child_id, name, age = item.get("child_id"), item.get("name", "Friend"), item.get("age")
    if not isinstance(child_id, str) or not _CHILD_ID.fullmatch(child_id):
        raise _fail(f"{where}.child_id", "1-64 characters of A-Z a-z 0-9 _ -")
    if not isinstance(name, str) or not 1 <= len(name) <= 30:
        raise _fail(f"{where}.name", "1-30 characters")
    # Stored ages may lie outside 3..13 so scenarios can check the WebSocket refuses them.
    if not isinstance(age, int) or isinstance(age, bool) or not 0 <= age <= 18:
        raise _fail(
            f"{where}.age", f"an integer (the chat accepts {MIN_CHILD_AGE}..{MAX_CHILD_AGE})"
        )
    language = item.get("language", "en")
    consent = item.get("consent", False)
    if not isinstance(language, str) or not isinstance(consent, bool):
        raise _fail(where, "language must be a string and consent true or false")
    return ChildEntry(child_id, name, age, language, consent)
