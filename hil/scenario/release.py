"""A `<release>` of the scenario format: its schema and its typed `ReleaseSpec`.

Written in `given.releases` and in `publish:` steps, so it lives here, once, for both.
`break:` describes how to damage the image or make its manifest lie (SPEC §5.4
failure cases); `hil.runner.releases` builds the bytes.
"""

from __future__ import annotations

from typing import Any, Final

from hil.scenario.fragments import CHIP, NONNEG, STR, Schema, obj
from hil.scenario.model import BreakSpec, ReleaseSpec
from hil.steps.build import At, InvalidStepError
from protocol.constants import CHIP_IDS
from protocol.device_model import BEHAVIOUR_PANIC_AFTER_MS, BEHAVIOUR_SELFTEST

MAX_PAYLOAD_BYTES: Final = 4 * 1024 * 1024

RELEASE: Final[Schema] = obj(
    {
        "version": STR,
        "chip": CHIP,
        "secure_version": NONNEG,
        "mandatory": {"type": "boolean"},
        "notes": STR,
        "behaviour": obj(
            {  # the image behaviour marker (protocol.device_model, emulator/README.md)
                BEHAVIOUR_SELFTEST: {"enum": ["fail"]},
                BEHAVIOUR_PANIC_AFTER_MS: NONNEG,
            }
        ),
        "payload_bytes": {"type": "integer", "minimum": 0, "maximum": MAX_PAYLOAD_BYTES},
        "break": obj(
            {
                "sha256_mismatch": {"type": "boolean"},
                "truncate": NONNEG,
                "random_bytes": {"type": "integer", "minimum": 1},
                "chip_id": {"type": ["string", "integer"]},
                "flip_byte": {"type": "integer"},
                "manifest_version": STR,
                "manifest_secure_version": NONNEG,
                "manifest_size": NONNEG,
            }
        ),
    },
    required=("version",),
)


def release_spec(value: dict[str, Any], at: At) -> ReleaseSpec:
    """The typed release of a schema-valid `<release>` mapping (chip names become ids)."""
    damage: dict[str, Any] = value.get("break") or {}
    chip_id = damage.get("chip_id")
    if isinstance(chip_id, str):
        if chip_id not in CHIP_IDS:
            raise InvalidStepError(
                f"break.chip_id {chip_id!r} at {at.where('break', 'chip_id')}: "
                f"use a chip id number or one of {', '.join(CHIP_IDS)}",
                sub=("break", "chip_id"),
            )
        chip_id = CHIP_IDS[chip_id]
    return ReleaseSpec(
        version=value["version"],
        chip=value.get("chip", "esp32"),
        secure_version=value.get("secure_version", 0),
        mandatory=value.get("mandatory", False),
        notes=value.get("notes", ""),
        behaviour=value.get("behaviour"),
        payload_bytes=value.get("payload_bytes", 0),
        breaks=BreakSpec(
            sha256_mismatch=damage.get("sha256_mismatch", False),
            truncate=damage.get("truncate"),
            random_bytes=damage.get("random_bytes"),
            chip_id=chip_id,
            flip_byte=damage.get("flip_byte"),
            manifest_version=damage.get("manifest_version"),
            manifest_secure_version=damage.get("manifest_secure_version"),
            manifest_size=damage.get("manifest_size"),
        ),
    )
