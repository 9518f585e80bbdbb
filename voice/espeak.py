"""Text-to-speech with the espeak-ng program, delivered as SPEC §7.1 PCM.

Owns :class:`Espeak` and :func:`synthesize_clip`. espeak-ng writes a WAV
at 22050 Hz to stdout (``--stdout``); the stdlib ``wave`` module parses it and
``scipy.signal.resample_poly(x, 320, 441)`` turns it into 16 kHz s16le mono, the
format of both audio directions (SPEC §7.1). The text goes in on stdin, never on the
command line, so a reply can never be read as an option.

:func:`synthesize_clip` is the same synthesis with silence around it: it stands in for
a child speaking into the toy in tests, benchmarks and the emulator (the espeak voices
``en-us`` and ``en-us+klatt`` are recognised by the server's pocketsphinx grammar).
"""

from __future__ import annotations

import io
import math
import shutil
import subprocess
import wave

import numpy as np
from numpy.typing import NDArray
from scipy.signal import resample_poly

from protocol.constants import SAMPLE_RATE
from voice.errors import SynthesisError, VoiceConfigError

DEFAULT_VOICE = "en-us"
DEFAULT_SPEED_WPM = 150  # a little slower than espeak's 175 wpm default, for children
MAX_TEXT_CHARS = 2000  # replies are <= 300 chars; anything far longer is a caller bug
_INSTALL_HINT = "install it with: apt-get install espeak-ng"


class Espeak:
    """Speaks text with espeak-ng; thread-safe (every call runs its own process)."""

    def __init__(
        self,
        voice: str = DEFAULT_VOICE,
        speed: int = DEFAULT_SPEED_WPM,
        *,
        executable: str = "espeak-ng",
        timeout_s: float = 20.0,
    ) -> None:
        if not 80 <= speed <= 450:
            raise VoiceConfigError(f"espeak-ng speed {speed} wpm is outside 80..450")
        if not voice or voice.startswith("-") or any(ch.isspace() for ch in voice):
            raise VoiceConfigError(f"not an espeak-ng voice name: {voice!r}")
        path = shutil.which(executable)
        if path is None:
            raise VoiceConfigError(f"{executable} not found on PATH; {_INSTALL_HINT}")
        self.voice = voice
        self.speed = speed
        self._path = path
        self._timeout_s = timeout_s

    def synthesize(self, text: str) -> bytes:
        """PCM s16le 16 kHz mono for ``text``; empty or blank text gives ``b""``."""
        if not text.strip():
            return b""
        if len(text) > MAX_TEXT_CHARS:
            raise SynthesisError(f"text of {len(text)} chars is over {MAX_TEXT_CHARS}")
        wav = self._run(text)
        rate, samples = _read_wav(wav)
        return _to_pcm16(_resample(samples, rate))

    def _run(self, text: str) -> bytes:
        command = [self._path, "--stdout", "--stdin", "-b", "1", "-v", self.voice]
        command += ["-s", str(self.speed)]
        try:
            done = subprocess.run(
                command,
                input=text.encode("utf-8"),
                capture_output=True,
                timeout=self._timeout_s,
                check=False,
            )
        except FileNotFoundError as exc:
            raise VoiceConfigError(f"{self._path} disappeared; {_INSTALL_HINT}") from exc
        except subprocess.TimeoutExpired as exc:
            raise SynthesisError(f"espeak-ng took over {self._timeout_s} s") from exc
        if done.returncode != 0 or not done.stdout:
            detail = done.stderr.decode("utf-8", "replace").strip()[:200]
            raise SynthesisError(
                f"espeak-ng -v {self.voice} failed (exit {done.returncode}): {detail or 'no audio'}"
            )
        return done.stdout


def _read_wav(data: bytes) -> tuple[int, NDArray[np.float64]]:
    """Sample rate and mono samples of espeak-ng's WAV.

    Writing to a pipe, espeak-ng cannot seek back to fill in the RIFF sizes and leaves
    them at 0x7fffffff; ``readframes`` then simply reads to the end of the data.
    """
    try:
        with wave.open(io.BytesIO(data), "rb") as wav:
            if wav.getsampwidth() != 2:
                raise SynthesisError(f"espeak-ng wrote {8 * wav.getsampwidth()}-bit audio")
            rate, channels = wav.getframerate(), wav.getnchannels()
            frames = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError) as exc:
        raise SynthesisError(f"espeak-ng output is not a readable WAV: {exc}") from exc
    usable = len(frames) - len(frames) % (2 * channels)
    samples = np.frombuffer(frames[:usable], dtype="<i2").astype(np.float64)
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    return rate, samples


def _resample(samples: NDArray[np.float64], rate: int) -> NDArray[np.float64]:
    """To 16 kHz: 22050 Hz -> 16000 Hz is up 320, down 441."""
    if rate == SAMPLE_RATE or samples.size == 0:
        return samples
    common = math.gcd(SAMPLE_RATE, rate)
    resampled: NDArray[np.float64] = resample_poly(samples, SAMPLE_RATE // common, rate // common)
    return resampled


def _to_pcm16(samples: NDArray[np.float64]) -> bytes:
    return np.clip(np.round(samples), -32768, 32767).astype("<i2").tobytes()


def synthesize_clip(
    text: str,
    *,
    voice: str = DEFAULT_VOICE,
    speed: int = 175,
    lead_silence_s: float = 0.3,
    tail_silence_s: float = 0.3,
) -> bytes:
    """A child-speech stand-in: the same synthesis with silence before and after.

    Defaults match how the pocketsphinx grammar threshold was calibrated (espeak's
    default 175 wpm, 0.3 s of silence each side, as a push-to-talk recording has).
    """
    speech = Espeak(voice, speed).synthesize(text)
    lead = bytes(2 * round(lead_silence_s * SAMPLE_RATE))
    tail = bytes(2 * round(tail_silence_s * SAMPLE_RATE))
    return lead + speech + tail
