"""Strict base64 for PCM payloads (SPEC §7.1), shared by messages and audio.

Kept apart from `protocol.audio` so that `protocol.messages` can decode chunks
without importing the frame builder (which itself builds messages).
"""

from __future__ import annotations

import base64
import binascii

from protocol.errors import MessageError


def b64encode_pcm(pcm: bytes) -> str:
    """Standard base64 with padding, no line breaks (SPEC §7.1)."""
    return base64.b64encode(pcm).decode("ascii")


def b64decode_pcm(data: str) -> bytes:
    """Decode `audio_data`; raises MessageError(invalid_audio_data) (SPEC §6.3).

    Refuses anything a C decoder could read differently: characters outside the
    standard alphabet, whitespace, missing padding, non-zero trailing bits (the
    text must re-encode to itself) and an odd byte count (not whole s16 samples).
    """
    try:
        pcm = base64.b64decode(data.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise MessageError("invalid_audio_data", "audio_data is not valid base64") from None
    if base64.b64encode(pcm).decode("ascii") != data:
        raise MessageError("invalid_audio_data", "audio_data is not canonical base64")
    if len(pcm) % 2:
        raise MessageError(
            "invalid_audio_data", f"audio_data decodes to {len(pcm)} bytes, not whole samples"
        )
    return pcm
