"""Building the firmware images a scenario's `given.releases` / `publish` steps describe.

Images are real ESP32 app images (`protocol.image.build_app_image`, SPEC §5.3). The
emulated firmware's behaviour rides in the payload as `TEDDY-BEHAVIOUR:{json}` (the
emulator reads it; e.g. `{"selftest": "fail"}` breaks networking after boot so the
self-test fails and the device must roll back, SPEC §5.5). `break:` damages the image
or makes the manifest lie, covering the failure cases trusted updaters test (ESP-IDF
`advanced_https_ota`): truncated, random bytes, wrong chip id, a manifest SHA-256 or
version that does not match the bytes, a lower secure_version.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from dataclasses import dataclass
from pathlib import Path

from hil.scenario.model import BreakSpec, ReleaseSpec
from protocol.device_model import BEHAVIOUR_MARKER
from protocol.image import ESP_IMAGE_MAGIC, build_app_image, flip_byte, with_chip_id
from server.releases import ReleaseOverrides, publish_release
from server.state import ServerState
from server.store import Release


def payload_for(spec: ReleaseSpec) -> bytes:
    """App payload: the behaviour marker (NUL-terminated JSON), then zero filler."""
    payload = b""
    if spec.behaviour:
        compact = json.dumps(dict(spec.behaviour), separators=(",", ":"), sort_keys=True)
        payload = BEHAVIOUR_MARKER + compact.encode() + b"\0"
    return payload + bytes(max(0, spec.payload_bytes - len(payload)))


def build_image(spec: ReleaseSpec, *, seed: str) -> bytes:
    """The bytes to publish for `spec`, damaged as its `break:` says (in a fixed order)."""
    image = build_app_image(
        version=spec.version,
        chip=spec.chip,
        secure_version=spec.secure_version,
        payload=payload_for(spec),
    )
    damage = spec.breaks
    if damage.flip_byte is not None:
        image = flip_byte(image, damage.flip_byte)
    if damage.chip_id is not None:
        image = with_chip_id(image, damage.chip_id)
    if damage.truncate is not None:
        image = image[: damage.truncate]
    if damage.random_bytes is not None:
        rng = random.Random(f"{seed}:{spec.version}")  # reproducible per scenario
        noise = bytearray(rng.randbytes(damage.random_bytes))
        if noise[0] == ESP_IMAGE_MAGIC:  # must not look like an app image by chance
            noise[0] = 0
        image = bytes(noise)
    return image


def _broken_note(damage: BreakSpec) -> str:
    parts = [
        f"{name}={value}"
        for name, value in vars(damage).items()
        if value is not None and value is not False
    ]
    return f" [deliberately broken by the scenario: {', '.join(parts)}]" if parts else ""


@dataclass(frozen=True)
class PreparedRelease:
    """What publishing `spec` hands a server: the bytes and what the manifest says of them."""

    image: bytes
    overrides: ReleaseOverrides
    mandatory: bool
    notes: str
    allow_invalid: bool


def prepare(spec: ReleaseSpec, *, seed: str) -> PreparedRelease:
    """The image `spec` describes, damaged and described as its `break:` says."""
    image = build_image(spec, seed=seed)
    damage = spec.breaks
    sha256 = None
    if damage.sha256_mismatch:
        sha256 = hashlib.sha256(b"not-this-image:" + image).hexdigest()
    secure = damage.manifest_secure_version
    overrides = ReleaseOverrides(
        version=damage.manifest_version or spec.version,
        chip=spec.chip,
        secure_version=spec.secure_version if secure is None else secure,
        sha256=sha256,
        size=damage.manifest_size,
    )
    return PreparedRelease(
        image=image,
        overrides=overrides,
        mandatory=spec.mandatory,
        notes=spec.notes + _broken_note(damage),
        allow_invalid=damage.damages_image or damage.chip_id is not None,
    )


def publish(spec: ReleaseSpec, *, state: ServerState, data_dir: Path, seed: str) -> Release:
    """Build and publish `spec` as the newest release for its chip."""
    prepared = prepare(spec, seed=seed)
    return publish_release(
        store=state.store,
        data_dir=data_dir,
        image=prepared.image,
        now=time.time(),
        mandatory=prepared.mandatory,
        notes=prepared.notes,
        allow_invalid=prepared.allow_invalid,
        overrides=prepared.overrides,
    )
