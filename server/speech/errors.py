"""Exceptions raised by the speech pipeline (``server.speech``).

Owns :class:`SpeechError`, the root of every failure of speech-to-text, the responder
and text-to-speech. It derives from :class:`server.errors.ServerError`, the package's
single exception root, so the server's handlers catch speech failures with everything
else and answer the device with ``processing_error`` (SPEC §6.3).
"""

from __future__ import annotations

from server.errors import ServerError


class SpeechError(ServerError):
    """Root of every exception raised by ``server.speech``."""


class SpeechConfigError(SpeechError):
    """An engine cannot start: a missing program, model folder or dictionary word.

    The message always says what to install or which setting to change.
    """


class SpeechBusyError(SpeechError):
    """Every decoder of an engine is in use and none freed up within the wait time."""


class StreamClosedError(SpeechError):
    """A recognition stream was used after ``finish()`` or ``close()``."""


class SynthesisError(SpeechError):
    """The text-to-speech program failed or returned audio that cannot be read."""
