"""Firmware manifest, the device's update decision and image verification.

Owns SPEC §5.1 (manifest body), §5.4 (update decision and image checks). It fixes
the original OTA defects (16): semver instead of string inequality, the manifest's
real field names, a SHA-256 check, chip and anti-rollback (`secure_version`)
checks, and the image's own version must be the one the manifest promised.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Final, Literal

from protocol import constants as c
from protocol._fields import FieldReader, as_object
from protocol.errors import ImageError
from protocol.image import (
    ESP_IMAGE_MAGIC,
    HEADER_PEEK_LEN,
    AppDescriptor,
    ImageHeader,
    peek_app_header,
    read_app_image,
)
from protocol.semver import Version, is_valid_version, parse_version

URL_PATTERN: Final = re.compile(r"https?://[^\s/?#]+/\S*")
NOTES_MAX_LEN: Final = 1024
VERSION_MAX_LEN: Final = 32  # esp_app_desc_t.version is char[32] with its NUL

UpdateAction = Literal["update", "skip"]
UpdateReason = Literal[
    "newer_version", "same_version", "older_version", "wrong_chip", "secure_version_too_low"
]


@dataclass(frozen=True)
class FirmwareManifest:
    """GET /api/v1/esp32/firmware body (SPEC §5.1)."""

    version: str
    url: str
    sha256: str
    size: int
    mandatory: bool
    secure_version: int
    chip: str
    notes: str = ""

    @classmethod
    def from_json(cls, obj: object) -> FirmwareManifest:
        """Strictly validate a decoded manifest; raises ValidationError (extra keys allowed)."""
        r = FieldReader(as_object(obj))
        version = r.string("version", min_len=1, max_len=VERSION_MAX_LEN - 1)
        if version and not is_valid_version(version):
            r.fail("version", "not_semver")
        url = r.string("url", min_len=1)
        if url and not URL_PATTERN.fullmatch(url):
            r.fail("url", "not_url")
        sha256 = r.hex_string("sha256", min_len=64, max_len=64, exact=True)
        size = r.integer("size", minimum=1)
        mandatory = r.boolean("mandatory")
        secure_version = r.integer("secure_version", minimum=0, maximum=c.SECURE_VERSION_MAX)
        chip = r.string("chip", min_len=1)
        if chip and chip not in c.CHIP_IDS:
            r.fail("chip", "unsupported_value")
        notes = r.string("notes", max_len=NOTES_MAX_LEN)
        r.raise_if_errors()
        return cls(version, url, sha256, size, mandatory, secure_version, chip, notes)

    def to_json(self) -> dict[str, object]:
        return {
            "version": self.version,
            "url": self.url,
            "sha256": self.sha256,
            "size": self.size,
            "mandatory": self.mandatory,
            "secure_version": self.secure_version,
            "chip": self.chip,
            "notes": self.notes,
        }


@dataclass(frozen=True)
class UpdateDecision:
    """What the device does with a manifest, and why (logged as ota.available/ota.none)."""

    action: UpdateAction
    reason: UpdateReason


def decide_update(
    manifest: FirmwareManifest, *, running_version: str | Version, chip: str, secure_version: int
) -> UpdateDecision:
    """Device-side update decision (SPEC §5.4).

    Checks in this order: chip, version precedence (SemVer; build metadata is
    ignored, so 1.2.0+a and 1.2.0+b are the same version), then anti-rollback.
    `mandatory` never forces a downgrade or a re-install.
    """
    if manifest.chip != chip:
        return UpdateDecision("skip", "wrong_chip")
    running = (
        running_version if isinstance(running_version, Version) else parse_version(running_version)
    )
    order = parse_version(manifest.version).compare(running)
    if order == 0:
        return UpdateDecision("skip", "same_version")
    if order < 0:
        return UpdateDecision("skip", "older_version")
    if manifest.secure_version < secure_version:
        return UpdateDecision("skip", "secure_version_too_low")
    return UpdateDecision("update", "newer_version")


@dataclass(frozen=True)
class ImageInfo:
    """What a verified image says about itself."""

    version: str
    secure_version: int
    chip: str
    project_name: str
    size: int
    sha256: str


def _check_identity(
    header: ImageHeader,
    desc: AppDescriptor,
    manifest: FirmwareManifest,
    *,
    chip: str,
    min_secure_version: int,
) -> None:
    if header.chip != chip or manifest.chip != chip:
        raise ImageError("wrong_chip", f"image chip id {header.chip_id}, device is {chip}")
    if desc.secure_version < min_secure_version:
        raise ImageError(
            "secure_version_too_low", f"image {desc.secure_version} < device {min_secure_version}"
        )
    if desc.version != manifest.version:
        raise ImageError("version_mismatch", f"image {desc.version!r} != {manifest.version!r}")


def verify_image(
    data: bytes, manifest: FirmwareManifest, *, chip: str, min_secure_version: int
) -> ImageInfo:
    """Check a downloaded image against its manifest (SPEC §5.4); raises ImageError.

    Order: size, sha256, then the image itself (bad_magic, truncated,
    bad_checksum, bad_hash), chip, secure_version, and the descriptor's version
    must equal the manifest's version exactly.
    """
    if len(data) != manifest.size:
        raise ImageError("size_mismatch", f"got {len(data)} bytes, manifest says {manifest.size}")
    digest = hashlib.sha256(data).hexdigest()
    if digest != manifest.sha256:
        raise ImageError("sha256_mismatch", f"got {digest}")
    image = read_app_image(data)
    assert image.app_desc is not None  # strict read_app_image guarantees it
    _check_identity(
        image.header, image.app_desc, manifest, chip=chip, min_secure_version=min_secure_version
    )
    return ImageInfo(
        image.app_desc.version,
        image.app_desc.secure_version,
        chip,
        image.app_desc.project_name,
        len(data),
        digest,
    )


class ImageVerifier:
    """Streaming verification while an image downloads (the emulator's OTA writer).

    `feed` keeps a running SHA-256 and size, refuses more bytes than the manifest
    announced, and - like esp_https_ota - checks the header and app descriptor
    (magic, chip, secure_version, version) as soon as the first HEADER_PEEK_LEN
    bytes are in. `finish` checks size and SHA-256; pass the whole image to also
    run the structural checks of `verify_image`.
    """

    def __init__(self, manifest: FirmwareManifest, *, chip: str, min_secure_version: int) -> None:
        self.manifest = manifest
        self.chip = chip
        self.min_secure_version = min_secure_version
        self.bytes_received = 0
        self.desc: AppDescriptor | None = None
        self._sha = hashlib.sha256()
        self._prefix = bytearray()

    def feed(self, chunk: bytes) -> None:
        """Account for the next downloaded bytes; raises ImageError as early as possible."""
        self.bytes_received += len(chunk)
        if self.bytes_received > self.manifest.size:
            raise ImageError("size_mismatch", f"more than {self.manifest.size} bytes")
        self._sha.update(chunk)
        if self.desc is None and len(self._prefix) < HEADER_PEEK_LEN:
            self._prefix += chunk[: HEADER_PEEK_LEN - len(self._prefix)]
            if self._prefix[:1] not in (b"", bytes([ESP_IMAGE_MAGIC])):
                raise ImageError("bad_magic", f"first byte {self._prefix[0]:#04x}")
            if len(self._prefix) == HEADER_PEEK_LEN:
                header, desc = peek_app_header(bytes(self._prefix))
                _check_identity(
                    header,
                    desc,
                    self.manifest,
                    chip=self.chip,
                    min_secure_version=self.min_secure_version,
                )
                self.desc = desc

    def finish(self, image: bytes | None = None) -> ImageInfo:
        """Final checks once the download ended; raises ImageError."""
        if self.bytes_received != self.manifest.size:
            raise ImageError("size_mismatch", f"got {self.bytes_received} of {self.manifest.size}")
        digest = self._sha.hexdigest()
        if digest != self.manifest.sha256:
            raise ImageError("sha256_mismatch", f"got {digest}")
        if image is not None:
            return verify_image(
                image, self.manifest, chip=self.chip, min_secure_version=self.min_secure_version
            )
        if self.desc is None:
            peek_app_header(bytes(self._prefix))  # raises bad_magic or truncated
            raise ImageError("truncated", "image shorter than its header")
        return ImageInfo(
            self.desc.version,
            self.desc.secure_version,
            self.chip,
            self.desc.project_name,
            self.bytes_received,
            digest,
        )
