"""Firmware releases: publishing an image and describing it as a manifest (SPEC §5.1).

A release is an ESP32 app image copied into ``<data>/firmware/`` plus a row in the
store. Version, chip and secure_version are read from the image itself (SPEC §5.3) so a
manifest can never disagree with the bytes it points at. Scenarios also need releases
that are deliberately wrong (truncated, corrupt, lying manifest): ``allow_invalid`` and
the explicit overrides publish those, and say so in the notes.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from protocol.constants import FIRMWARE_FILES_PREFIX
from protocol.errors import ImageError
from protocol.image import read_app_image
from protocol.manifest import FirmwareManifest
from server.errors import ReleaseError
from server.store import Release, Store


@dataclass(frozen=True)
class ReleaseOverrides:
    """Manifest values to use instead of the image's own (for broken-image scenarios)."""

    version: str | None = None
    chip: str | None = None
    secure_version: int | None = None
    sha256: str | None = None
    size: int | None = None


def firmware_dir(data_dir: Path) -> Path:
    return data_dir / "firmware"


def publish_release(
    *,
    store: Store,
    data_dir: Path,
    image: bytes,
    now: float,
    mandatory: bool = False,
    notes: str = "",
    allow_invalid: bool = False,
    overrides: ReleaseOverrides | None = None,
) -> Release:
    """Store ``image`` as the newest release for its chip and return it."""
    over = overrides or ReleaseOverrides()
    version, chip, secure_version = _describe(image, over, allow_invalid=allow_invalid)
    sha256 = hashlib.sha256(image).hexdigest()
    filename = f"teddy-{version}-{chip}-{sha256[:12]}.bin"
    target = firmware_dir(data_dir) / filename
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(image)
    os.replace(tmp, target)  # never leave a half-written image behind a manifest
    release = Release(
        id=0,
        version=version,
        chip=chip,
        secure_version=secure_version,
        sha256=over.sha256 or sha256,
        size=over.size if over.size is not None else len(image),
        filename=filename,
        mandatory=mandatory,
        notes=notes,
        published_at=now,
    )
    existing = store.release_by_filename(filename)
    if existing is not None and existing.sha256 == release.sha256 and existing.size == release.size:
        raise ReleaseError(f"this image is already published as {existing.version} ({filename})")
    if existing is not None:
        raise ReleaseError(f"{filename} is already published with other manifest values")
    return store.add_release(release)


def _describe(image: bytes, over: ReleaseOverrides, *, allow_invalid: bool) -> tuple[str, str, int]:
    try:
        parsed = read_app_image(image)
    except ImageError as exc:
        if not allow_invalid:
            raise ReleaseError(
                f"not a valid ESP32 app image ({exc.reason}): {exc}; "
                "pass allow_invalid with version and chip to publish it anyway"
            ) from exc
        if over.version is None or over.chip is None:
            raise ReleaseError("an invalid image needs an explicit version and chip") from exc
        return over.version, over.chip, over.secure_version or 0
    desc, chip = parsed.app_desc, over.chip or parsed.chip
    if desc is None or chip is None:
        raise ReleaseError("the image has no app descriptor or an unknown chip id (SPEC §5.3)")
    secure = over.secure_version if over.secure_version is not None else desc.secure_version
    return over.version or desc.version, chip, secure


def current_release(store: Store, *, chip: str) -> Release | None:
    """The release devices of ``chip`` should run: the most recently published one."""
    releases = store.releases(chip=chip)
    return releases[-1] if releases else None


def manifest_for(release: Release, *, base_url: str) -> FirmwareManifest:
    """The manifest of SPEC §5.1, built with the protocol's model that devices parse."""
    return FirmwareManifest(
        version=release.version,
        url=f"{base_url}{FIRMWARE_FILES_PREFIX}/{release.filename}",
        sha256=release.sha256,
        size=release.size,
        mandatory=release.mandatory,
        secure_version=release.secure_version,
        chip=release.chip,
        notes=release.notes,
    )
