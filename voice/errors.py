"""The exception root of `voice`: every failure of speech synthesis.

`VoiceConfigError` means the engine cannot start (a missing program, a bad voice name)
and its message says what to install or change; `SynthesisError` means one synthesis
failed. Callers in other packages translate them into their own roots.
"""

from __future__ import annotations


class VoiceError(Exception):
    """Root of every exception raised by the `voice` package."""


class VoiceConfigError(VoiceError):
    """The synthesiser cannot run as configured; the message names the fix."""


class SynthesisError(VoiceError):
    """The synthesis program failed or returned audio that cannot be read."""
