"""pocketsphinx speech-to-text on espeak-ng speech fed in 4096-byte chunks (SPEC §7.2).

Full-set accuracy (all grammar phrases, 40 off-grammar sentences, both voices) is
measured by ``python -m server.speech.bench --calibrate``; these tests pin a
representative subset so they stay fast.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable

import pytest

from server.speech.errors import (
    SpeechBusyError,
    SpeechConfigError,
    SpeechError,
    StreamClosedError,
)
from server.speech.interfaces import ChildContext, Transcript
from server.speech.pipeline import feed_in_chunks, transcribe
from server.speech.pocketsphinx_stt import (
    DEFAULT_GRAMMAR_THRESHOLD,
    PocketSphinxSpeechToText,
    build_jsgf,
    grammar_confidence,
)
from server.speech.responder import RuleBasedResponder

pytestmark = [pytest.mark.unit, pytest.mark.slow]

ClipFn = Callable[[str, str], bytes]

VOICES = ("en-us", "en-us+klatt")
PHRASES = (
    "hello teddy",
    "tell me a joke",
    "tell me a story",
    "why is the sky blue",
    "what is your name",
    "how old are you",
    "what does a cow say",
    "what is two plus two",
    "i am sad",
    "are you my friend",
)


@pytest.mark.parametrize("voice", VOICES)
@pytest.mark.parametrize("phrase", PHRASES)
def test_grammar_phrases_are_recognised(
    pocketsphinx_engine: PocketSphinxSpeechToText,
    clip: ClipFn,
    phrase: str,
    voice: str,
) -> None:
    heard = transcribe(pocketsphinx_engine, clip(phrase, voice))
    assert (heard.text, heard.search, heard.engine) == (phrase, "grammar", "pocketsphinx")
    assert heard.confidence is not None and 0.5 <= heard.confidence <= 1.0


@pytest.mark.parametrize(
    ("sentence", "voice"),
    [("please open the door", "en-us+klatt"), ("i want to go to the park", "en-us")],
)
def test_off_grammar_speech_falls_back_to_open_vocabulary(
    pocketsphinx_engine: PocketSphinxSpeechToText,
    clip: ClipFn,
    child: ChildContext,
    sentence: str,
    voice: str,
) -> None:
    heard = transcribe(pocketsphinx_engine, clip(sentence, voice))
    assert heard.search == "open" and heard.confidence is None
    assert heard.text, "open vocabulary should hear some words"
    reply = RuleBasedResponder().respond(heard.text, child=child)
    assert reply.text and len(reply.text) <= 300


def test_finish_only_flushes_because_decoding_happens_while_feeding(
    pocketsphinx_engine: PocketSphinxSpeechToText, clip: ClipFn
) -> None:
    pcm = clip("why is the sky blue", "en-us+klatt")
    stream = pocketsphinx_engine.open_stream()
    feed_in_chunks(stream, pcm)
    start = time.perf_counter()
    heard = stream.finish()
    finish_ms = (time.perf_counter() - start) * 1000
    assert heard.text == "why is the sky blue"
    assert finish_ms < 250, f"finish took {finish_ms:.0f} ms (measured ~8 ms when idle)"


def test_same_audio_same_transcript_whatever_came_before(
    pocketsphinx_engine: PocketSphinxSpeechToText, clip: ClipFn
) -> None:
    pcm = clip("hello teddy", "en-us")
    first = pocketsphinx_engine.open_stream()
    feed_in_chunks(first, pcm)
    first_heard = first.finish()
    transcribe(pocketsphinx_engine, clip("tell me a joke", "en-us+klatt"))
    again = pocketsphinx_engine.open_stream()
    feed_in_chunks(again, pcm)
    assert again.finish() == first_heard
    assert again.grammar_score == first.grammar_score  # CMN is reset per stream


def test_odd_sized_chunks_decode_like_even_ones(
    pocketsphinx_engine: PocketSphinxSpeechToText, clip: ClipFn
) -> None:
    pcm = clip("tell me a joke", "en-us+klatt")
    stream = pocketsphinx_engine.open_stream()
    for i in range(0, len(pcm), 4095):
        stream.feed(pcm[i : i + 4095])
    assert stream.finish().text == "tell me a joke"


def test_concurrent_streams_use_separate_decoders(
    pocketsphinx_engine: PocketSphinxSpeechToText, clip: ClipFn
) -> None:
    phrases = ["tell me a story", "what does a cow say"]
    pcms = [clip(p, "en-us+klatt") for p in phrases]
    results: dict[int, Transcript] = {}

    def run(index: int) -> None:
        results[index] = transcribe(pocketsphinx_engine, pcms[index])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert [results[i].text for i in range(2)] == phrases


def test_pool_lends_each_decoder_to_one_stream_and_drops_broken_ones() -> None:
    engine = PocketSphinxSpeechToText(max_streams=1, acquire_timeout_s=0.05)
    first = engine.open_stream()
    with pytest.raises(SpeechBusyError, match="busy"):
        engine.open_stream()
    first.close()
    second = engine.open_stream()  # the freed pair is reused
    second.feed(bytes(3200))
    assert second.finish().text == ""
    dropped = engine.open_stream()
    del dropped
    gc.collect()
    engine.open_stream().close()  # a stream dropped without close gave its pair back

    broken = engine.open_stream()
    broken_pair = broken._pair
    assert broken_pair is not None

    def fail(pcm: bytes) -> None:
        raise RuntimeError("decoder exploded")

    broken_pair.process = fail  # type: ignore[method-assign]
    with pytest.raises(SpeechError, match="decoding failed"):
        broken.feed(bytes(4096))
    with pytest.raises(StreamClosedError):
        broken.finish()
    replacement = engine.open_stream()  # the broken pair was discarded, a new one built
    assert replacement._pair is not broken_pair
    replacement.close()


def test_streams_refuse_use_after_finish(pocketsphinx_engine: PocketSphinxSpeechToText) -> None:
    stream = pocketsphinx_engine.open_stream()
    assert stream.finish() == Transcript("", None, "pocketsphinx", "open")
    with pytest.raises(StreamClosedError):
        stream.feed(b"\x00\x00")
    with pytest.raises(StreamClosedError):
        stream.finish()
    stream.close()
    stream.close()


def test_grammar_misconfiguration_is_reported() -> None:
    with pytest.raises(SpeechConfigError, match="missing from the dictionary"):
        PocketSphinxSpeechToText(phrases=("hello zzqxv",))
    with pytest.raises(SpeechConfigError, match="lower-case words"):
        build_jsgf(["Hello, Teddy!"])
    with pytest.raises(SpeechConfigError, match="no pocketsphinx en-us model"):
        PocketSphinxSpeechToText(model_dir="/nonexistent/model")


def test_grammar_confidence_is_one_half_at_the_threshold() -> None:
    assert grammar_confidence(DEFAULT_GRAMMAR_THRESHOLD, DEFAULT_GRAMMAR_THRESHOLD) == 0.5
    assert grammar_confidence(0.0, DEFAULT_GRAMMAR_THRESHOLD) > 0.95
    assert grammar_confidence(-80.0, DEFAULT_GRAMMAR_THRESHOLD) < 0.01
    jsgf = build_jsgf(["hello teddy", "hello teddy", "hi"])
    assert jsgf.count("hello teddy") == 1 and "public <utterance>" in jsgf
