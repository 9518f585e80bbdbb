"""Speech-to-text with a vosk (Kaldi) model folder, and the choice between engines.

Owns :class:`VoskSpeechToText` and :func:`select_speech_to_text`. A vosk model is
loaded once per folder and process (it takes seconds and hundreds of MB) and shared by
every stream; each stream has its own ``KaldiRecognizer``, so streams never share
decoding state and need no lock between them. Audio is decoded as it arrives
(``AcceptWaveform`` per chunk, SPEC §7.2); when vosk detects the end of a phrase
mid-utterance its result is kept and joined with ``FinalResult`` at ``finish``.

No English vosk model is on PyPI (only the Korean one is packaged); ``TEDDY_VOSK_MODEL`` points
the server at one on machines that have it, otherwise pocketsphinx is used.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from typing import Any

import vosk

from server.speech.errors import SpeechConfigError, SpeechError, StreamClosedError
from server.speech.interfaces import SAMPLE_RATE, SpeechToText, Transcript
from server.speech.pocketsphinx_stt import PocketSphinxSpeechToText

ENGINE_NAME = "vosk"
MODEL_ENV = "TEDDY_VOSK_MODEL"

_models: dict[str, Any] = {}
_models_lock = threading.Lock()


def load_model(path: str) -> Any:
    """The vosk model in ``path``, loaded on first use and then shared."""
    key = os.path.realpath(path)
    with _models_lock:
        model = _models.get(key)
        if model is None:
            if not os.path.isdir(key):
                raise SpeechConfigError(f"vosk model folder {path!r} does not exist")
            vosk.SetLogLevel(-1)  # Kaldi logs every model file to stderr otherwise
            try:
                model = vosk.Model(key)
            except Exception as exc:  # vosk raises a bare Exception on a bad folder
                raise SpeechConfigError(
                    f"{path!r} is not a vosk model folder (expected am/, conf/, graph/): {exc}"
                ) from exc
            _models[key] = model
        return model


def _parse(result_json: str) -> dict[str, Any]:
    try:
        result = json.loads(result_json)
    except json.JSONDecodeError as exc:
        raise SpeechError(f"vosk returned invalid JSON: {result_json[:80]!r}") from exc
    if not isinstance(result, dict):
        raise SpeechError(f"vosk returned {type(result).__name__}, not a JSON object")
    return result


def _text_of(result_json: str) -> tuple[str, list[float]]:
    """Text and per-word confidences of one vosk JSON result."""
    result = _parse(result_json)
    words = result.get("result") or []
    confidences = [float(w["conf"]) for w in words if isinstance(w, dict) and "conf" in w]
    return str(result.get("text", "")).strip(), confidences


class VoskSpeechToText:
    """Speech-to-text from a vosk model folder (any language vosk has a model for)."""

    def __init__(self, model_path: str) -> None:
        self.model_path = model_path
        self._model = load_model(model_path)

    def open_stream(self) -> VoskStream:
        try:
            recognizer = vosk.KaldiRecognizer(self._model, float(SAMPLE_RATE))
        except Exception as exc:
            raise SpeechError(f"vosk could not create a recognizer: {exc}") from exc
        recognizer.SetWords(True)  # per-word confidences for Transcript.confidence
        return VoskStream(recognizer)


class VoskStream:
    """One utterance on its own recognizer (see :class:`RecognitionStream`)."""

    def __init__(self, recognizer: Any) -> None:
        self._recognizer: Any | None = recognizer
        self._lock = threading.Lock()
        self._carry = b""
        self._texts: list[str] = []
        self._confidences: list[float] = []
        self.partial = ""

    def feed(self, pcm: bytes) -> None:
        with self._lock:
            recognizer = self._live()
            data = self._carry + bytes(pcm)
            usable = len(data) - len(data) % 2
            self._carry = data[usable:]
            if not usable:
                return
            try:
                ended = recognizer.AcceptWaveform(data[:usable])
            except Exception as exc:  # vosk raises a bare Exception when decoding fails
                self._recognizer = None
                raise SpeechError(f"vosk decoding failed: {exc}") from exc
            if ended:
                self._keep(recognizer.Result())  # vosk found a phrase end mid-utterance
                self.partial = ""
            else:
                self.partial = str(_parse(recognizer.PartialResult()).get("partial", ""))

    def finish(self) -> Transcript:
        with self._lock:
            recognizer = self._live()
            self._recognizer = None
            self._keep(recognizer.FinalResult())
        text = " ".join(t for t in self._texts if t)
        confidence = sum(self._confidences) / len(self._confidences) if self._confidences else None
        return Transcript(text, confidence, ENGINE_NAME, "open")

    def close(self) -> None:
        with self._lock:
            self._recognizer = None

    def _live(self) -> Any:
        if self._recognizer is None:
            raise StreamClosedError("vosk stream already finished or closed")
        return self._recognizer

    def _keep(self, result_json: str) -> None:
        text, confidences = _text_of(result_json)
        self._texts.append(text)
        self._confidences.extend(confidences)


def select_speech_to_text(env: Mapping[str, str], *, max_streams: int = 4) -> SpeechToText:
    """vosk when ``TEDDY_VOSK_MODEL`` names a model folder, else pocketsphinx.

    A set but missing folder is an error rather than a silent fallback: the operator
    asked for vosk and would otherwise get a different language or accuracy unnoticed.
    """
    path = env.get(MODEL_ENV, "").strip()
    if path:
        if not os.path.isdir(path):
            raise SpeechConfigError(
                f"{MODEL_ENV}={path!r} is not a folder; point it at an unpacked vosk model "
                f"or unset it to use pocketsphinx"
            )
        return VoskSpeechToText(path)
    return PocketSphinxSpeechToText(max_streams=max_streams)
