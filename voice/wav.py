"""The WAV container of SPEC §7.1 audio: PCM s16le, 16 kHz, mono, written atomically.

Shared by the emulator (its recordings of what it heard and said) and the server (the
utterance audio it keeps only when started with `keep_utterance_audio`, SPEC §6.5 rule 10),
so both write the same header that `expect_files` checks.
"""

from __future__ import annotations

import io
import os
import wave
from pathlib import Path

from protocol.constants import CHANNELS, SAMPLE_RATE, SAMPLE_WIDTH


def wav_bytes(pcm: bytes) -> bytes:
    """`pcm` (SPEC §7.1 format) inside a RIFF/WAVE header."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(CHANNELS)
        wav.setsampwidth(SAMPLE_WIDTH)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(pcm)
    return buffer.getvalue()


def write_wav(path: Path, pcm: bytes) -> None:
    """Write `pcm` as a WAV file; a reader never sees half a file (temp file, rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(wav_bytes(pcm))
    os.replace(tmp, path)
