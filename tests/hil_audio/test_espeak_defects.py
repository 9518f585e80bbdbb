"""Each defect of issue 14, built from a real espeak-ng reply, FAILS the default limits.

espeak-ng runs as a subprocess (voice.espeak.synthesize_clip), hence `emu`. The same
reply clean, at volume 70 % and 300 ms late PASSES, transcript (WER) included.
"""

from __future__ import annotations

import re

import pytest

from hil.audio.limits import DEFAULT_LIMITS, check
from hil.audio.measure import measure
from hil.audio.recording import Recording, from_pcm
from hil.audio.transcribe import default_recogniser, word_error_rate
from tests.hil_audio.signals import BROKEN, PASSING

pytestmark = pytest.mark.emu

REPLY = "Hello! I am Teddy, your friendly bear. Do you want to hear a story?"


@pytest.fixture(scope="module", params=["en-us", "en-us+klatt"])
def reference(request: pytest.FixtureRequest) -> Recording:
    from voice.espeak import synthesize_clip

    return from_pcm(synthesize_clip(REPLY, voice=request.param))


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_each_defect_fails_with_a_message_naming_it(reference: Recording, name: str) -> None:
    breaker, expected = BROKEN[name]
    violations = check(measure(breaker(reference), reference), DEFAULT_LIMITS)
    assert expected <= {v.measurement for v in violations}, [v.text() for v in violations]
    for v in violations:
        assert re.fullmatch(rf"{v.measurement} = -?[0-9.]+.*, limit .*\(\w+.*\)", v.text())


def test_the_lost_first_chunk_is_128_ms(reference: Recording) -> None:
    texts = [
        v.text()
        for v in check(
            measure(BROKEN["first_chunk_missing"][0](reference), reference), DEFAULT_LIMITS
        )
    ]
    assert texts == ["missing_start_s = 0.128 s, limit ≤ 0.05 s (max_missing_s)"]


def test_a_reply_cut_in_half_fails_its_transcript(reference: Recording) -> None:
    half = BROKEN["first_half_only"][0](reference)
    wer = word_error_rate(REPLY, default_recogniser().transcribe(half, REPLY).text)
    assert "wer" in {v.measurement for v in check(measure(half), DEFAULT_LIMITS, wer=wer)}


@pytest.mark.parametrize("name", sorted(PASSING))
def test_good_copies_pass_transcript_included(reference: Recording, name: str) -> None:
    played = PASSING[name](reference)
    heard = default_recogniser().transcribe(played, REPLY)
    wer = word_error_rate(REPLY, heard.text)
    assert check(measure(played, reference), DEFAULT_LIMITS, wer=wer) == [], heard
