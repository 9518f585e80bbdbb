"""Audio truth: what the toy played and what the server heard, measured and transcribed.

``hil.audio`` owns the analysis behind the ``expect_audio`` step (issue 14), nothing
else: recordings (:mod:`~hil.audio.recording`: WAV files at their own rate, raw SPEC §7.1
PCM), measurements alone and against what was sent (:mod:`~hil.audio.measure`), the
limits they are checked against and the violation messages (:mod:`~hil.audio.limits`),
transcripts and word error rate (:mod:`~hil.audio.transcribe`), the per-utterance
PNG + JSON evidence (:mod:`~hil.audio.artifacts`) and the cost benchmark
(``python -m hil.audio.bench``). It is pure numpy/scipy/pocketsphinx/matplotlib: it
imports no server, emulator or runner (an import-linter contract in pyproject.toml), so
targets, steps and benches can all use it; where audio comes from is their business.
"""

from hil.audio.limits import DEFAULT_LIMITS, AudioLimits, Violation, check
from hil.audio.measure import Measurements, measure
from hil.audio.recording import AudioError, Recording, from_pcm, load_wav
from hil.audio.transcribe import Transcription, default_recogniser, word_error_rate

__all__ = [
    "DEFAULT_LIMITS",
    "AudioError",
    "AudioLimits",
    "Measurements",
    "Recording",
    "Transcription",
    "Violation",
    "check",
    "default_recogniser",
    "from_pcm",
    "load_wav",
    "measure",
    "word_error_rate",
]
