"""vosk speech-to-text with the packaged Korean model, and choosing the engine from env.

No English vosk model is on PyPI (only the Korean one is packaged), so these tests check the
engine contract -- loading, incremental feeding with partial results between chunks, a
final transcript -- not the words: Korean acoustics on English audio give some text.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from server.speech import vosk_stt
from server.speech.errors import SpeechConfigError, SpeechError, StreamClosedError
from server.speech.interfaces import SpeechToText
from server.speech.pipeline import transcribe
from server.speech.pocketsphinx_stt import PocketSphinxSpeechToText
from server.speech.vosk_stt import (
    MODEL_ENV,
    VoskSpeechToText,
    VoskStream,
    load_model,
    select_speech_to_text,
)

pytestmark = [pytest.mark.unit, pytest.mark.slow]

ClipFn = Callable[[str, str], bytes]


class SpyRecognizer:
    """Wraps a KaldiRecognizer (or fakes one) and records which API was called."""

    def __init__(self, real: object | None = None, *, endpoint_at: int = -1) -> None:
        self.real = real
        self.calls: list[str] = []
        self.endpoint_at = endpoint_at

    def AcceptWaveform(self, data: bytes) -> bool:  # noqa: N802 - vosk's API names
        self.calls.append("AcceptWaveform")
        if self.real is not None:
            return bool(self.real.AcceptWaveform(data))  # type: ignore[attr-defined]
        return self.calls.count("AcceptWaveform") == self.endpoint_at

    def PartialResult(self) -> str:  # noqa: N802
        self.calls.append("PartialResult")
        if self.real is not None:
            return str(self.real.PartialResult())  # type: ignore[attr-defined]
        return json.dumps({"partial": "hello"})

    def Result(self) -> str:  # noqa: N802
        self.calls.append("Result")
        return json.dumps({"text": "hello teddy", "result": [{"conf": 0.5, "word": "hello"}]})

    def FinalResult(self) -> str:  # noqa: N802
        self.calls.append("FinalResult")
        if self.real is not None:
            return str(self.real.FinalResult())  # type: ignore[attr-defined]
        return json.dumps({"text": "tell me a joke", "result": [{"conf": 1.0, "word": "x"}]})


def test_env_with_a_model_folder_selects_vosk(
    vosk_engine: SpeechToText, korean_model_path: str
) -> None:
    assert isinstance(vosk_engine, VoskSpeechToText)
    assert vosk_engine.model_path == korean_model_path
    assert load_model(korean_model_path) is load_model(korean_model_path + "/")  # loaded once


def test_without_the_variable_pocketsphinx_is_selected(monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(select_speech_to_text({}), PocketSphinxSpeechToText)
    monkeypatch.setattr(vosk_stt, "PocketSphinxSpeechToText", lambda max_streams: "pocketsphinx")
    chosen: object = select_speech_to_text({MODEL_ENV: "  ", "OTHER": "x"})
    assert chosen == "pocketsphinx"


def test_a_missing_model_folder_is_a_clear_error(tmp_path: Path) -> None:
    missing = str(tmp_path / "vosk-model-en")
    with pytest.raises(SpeechConfigError, match="is not a folder") as caught:
        select_speech_to_text({MODEL_ENV: missing})
    assert missing in str(caught.value) and "unset it" in str(caught.value)


def test_a_folder_without_a_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SpeechConfigError, match="not a vosk model folder"):
        select_speech_to_text({MODEL_ENV: str(tmp_path)})


def test_incremental_feeding_asks_for_partial_results_between_chunks(
    vosk_engine: SpeechToText, clip: ClipFn
) -> None:
    assert isinstance(vosk_engine, VoskSpeechToText)
    real = vosk_engine.open_stream()._recognizer
    spy = SpyRecognizer(real)
    stream = VoskStream(spy)
    pcm = clip("hello teddy tell me a story", "en-us+klatt")
    partials: list[str] = []
    for i in range(0, len(pcm), 4096):
        stream.feed(pcm[i : i + 4096])
        partials.append(stream.partial)
    heard = stream.finish()
    assert spy.calls.count("AcceptWaveform") == len(partials) == -(-len(pcm) // 4096)
    assert spy.calls.count("PartialResult") + spy.calls.count("Result") == len(partials)
    assert spy.calls[-1] == "FinalResult"
    assert all(isinstance(p, str) for p in partials)
    assert isinstance(heard.text, str) and heard.engine == "vosk" and heard.search == "open"
    assert heard.confidence is None or 0.0 <= heard.confidence <= 1.0


def test_english_audio_through_the_korean_model_gives_a_transcript(
    vosk_engine: SpeechToText, clip: ClipFn
) -> None:
    heard = transcribe(vosk_engine, clip("why is the sky blue", "en-us"))
    assert isinstance(heard.text, str)  # Korean words or nothing: the contract, not words
    assert transcribe(vosk_engine, bytes(32000)).text == ""  # silence: no words


def test_phrase_ends_found_mid_utterance_are_kept() -> None:
    spy = SpyRecognizer(endpoint_at=2)
    stream = VoskStream(spy)
    for _ in range(3):
        stream.feed(bytes(4096))
    heard = stream.finish()
    assert spy.calls == [
        "AcceptWaveform", "PartialResult", "AcceptWaveform", "Result",
        "AcceptWaveform", "PartialResult", "FinalResult",
    ]  # fmt: skip
    assert heard.text == "hello teddy tell me a joke"
    assert heard.confidence == pytest.approx(0.75)


def test_invalid_json_from_vosk_is_a_speech_error() -> None:
    class Broken(SpyRecognizer):
        def FinalResult(self) -> str:  # noqa: N802
            return "{not json"

    stream = VoskStream(Broken())
    with pytest.raises(SpeechError, match="invalid JSON"):
        stream.finish()


def test_a_decoding_failure_closes_the_stream() -> None:
    class Failing(SpyRecognizer):
        def AcceptWaveform(self, data: bytes) -> bool:  # noqa: N802
            raise Exception("Failed to process waveform")  # what vosk raises

    stream = VoskStream(Failing())
    with pytest.raises(SpeechError, match="vosk decoding failed"):
        stream.feed(bytes(4096))
    with pytest.raises(StreamClosedError):
        stream.feed(bytes(4096))
