"""The RecognitionStream contract for every engine, the scripted engine and the pipeline."""

from __future__ import annotations

import hashlib

import pytest

from server.speech.errors import StreamClosedError
from server.speech.espeak_tts import EspeakTextToSpeech
from server.speech.interfaces import (
    BYTES_PER_SECOND,
    ChildContext,
    Reply,
    SpeechToText,
    Transcript,
)
from server.speech.pipeline import SpeechPipeline, feed_in_chunks, transcribe
from server.speech.responder import RuleBasedResponder
from server.speech.scripted import ScriptedSpeechToText, pcm_digest

pytestmark = pytest.mark.unit

ENGINES = [
    pytest.param("scripted", id="scripted"),
    pytest.param("pocketsphinx_engine", id="pocketsphinx", marks=pytest.mark.slow),
    pytest.param("vosk_engine", id="vosk", marks=pytest.mark.slow),
]
SILENCE = bytes(BYTES_PER_SECOND // 2)


class RecordingTts:
    """A text-to-speech stand-in: 10 ms of silence per character, texts recorded."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def synthesize(self, text: str) -> bytes:
        self.texts.append(text)
        return bytes(320 * len(text))


@pytest.fixture
def engine(request: pytest.FixtureRequest) -> SpeechToText:
    if request.param == "scripted":
        return ScriptedSpeechToText()
    stt: SpeechToText = request.getfixturevalue(request.param)
    return stt


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_contract_silence_and_empty_streams_give_empty_text(engine: SpeechToText) -> None:
    heard = transcribe(engine, SILENCE)
    assert heard.text == "" and heard.search in ("grammar", "open")
    empty = engine.open_stream().finish()
    assert isinstance(empty, Transcript) and empty.text == "" and empty.engine


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_contract_use_after_finish_or_close_is_refused(engine: SpeechToText) -> None:
    finished = engine.open_stream()
    finished.feed(SILENCE[:4096])
    finished.finish()
    with pytest.raises(StreamClosedError):
        finished.feed(SILENCE[:4096])
    with pytest.raises(StreamClosedError):
        finished.finish()
    finished.close()  # harmless after finish
    closed = engine.open_stream()
    closed.feed(SILENCE[:4096])
    closed.close()
    closed.close()  # idempotent
    with pytest.raises(StreamClosedError):
        closed.feed(b"\x00\x00")
    with pytest.raises(StreamClosedError):
        closed.finish()


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_contract_any_chunk_size_including_odd_bytes(engine: SpeechToText) -> None:
    stream = engine.open_stream()
    stream.feed(b"")
    feed_in_chunks(stream, SILENCE[:3001], chunk_bytes=1)
    feed_in_chunks(stream, SILENCE, chunk_bytes=4095)
    assert stream.finish().text == ""


def test_scripted_maps_audio_by_sha256_and_injection_comes_first() -> None:
    stt = ScriptedSpeechToText(default="hello teddy")
    joke_audio = b"\x01\x02" * 5000
    digest = stt.script(joke_audio, "tell me a joke")
    assert digest == hashlib.sha256(joke_audio).hexdigest() == pcm_digest(joke_audio)
    assert transcribe(stt, joke_audio).text == "tell me a joke"  # hashed chunk by chunk
    assert transcribe(stt, b"\x00\x00" * 100).text == "hello teddy"
    stt.inject("why is the sky blue", "good night")
    assert transcribe(stt, joke_audio).text == "why is the sky blue"
    assert transcribe(stt, b"").text == "good night"
    assert transcribe(stt, joke_audio).text == "tell me a joke"
    assert stt.heard[0] == digest and len(stt.heard) == 5
    preset = ScriptedSpeechToText(scripts={digest.upper(): "count to five"})
    heard = transcribe(preset, joke_audio)
    assert heard == Transcript("count to five", 1.0, "scripted", "open")


def test_answer_text_skips_speech_to_text(child: ChildContext) -> None:
    tts = RecordingTts()
    pipeline = SpeechPipeline(ScriptedSpeechToText(), RuleBasedResponder(), tts)
    reply = pipeline.answer_text("Tell me a joke!", child)
    assert reply.category == "joke" and reply.safe and reply.transcript == "Tell me a joke!"
    assert tts.texts == [reply.reply_text] and len(reply.pcm) == 320 * len(reply.reply_text)
    assert set(reply.timings) == {"stt_ms", "respond_ms", "tts_ms"}
    assert reply.timings["stt_ms"] == 0.0 and reply.heard is None
    assert all(v >= 0.0 for v in reply.timings.values())


def test_an_utterance_is_fed_then_answered_with_real_speech(child: ChildContext) -> None:
    stt = ScriptedSpeechToText()
    audio = b"\x10\x00" * 8000
    stt.script(audio, "why is the sky blue")
    pipeline = SpeechPipeline(stt, RuleBasedResponder(), EspeakTextToSpeech())
    utterance = pipeline.open_utterance()
    feed_in_chunks(utterance, audio)
    reply = utterance.finish(child)
    assert reply.transcript == "why is the sky blue" and reply.category == "question"
    assert reply.heard is not None and reply.heard.engine == "scripted"
    assert len(reply.pcm) > BYTES_PER_SECOND  # over a second of spoken answer
    assert reply.timings["stt_ms"] >= 0.0 and reply.timings["tts_ms"] > 0.0
    dropped = pipeline.open_utterance()
    dropped.feed(audio)
    dropped.close()
    assert stt.heard == [pcm_digest(audio)]  # the dropped utterance was never answered


@pytest.mark.parametrize(
    ("alternative", "category"),
    [("tell me a secret", "redirect"), ("my phone number is", "redirect"), (None, "story")],
)
def test_the_other_hypothesis_is_screened_too(
    child: ChildContext, alternative: str | None, category: str
) -> None:
    """A confident grammar match cannot hide unsafe words the open decoder heard."""
    pipeline = SpeechPipeline(ScriptedSpeechToText(), RuleBasedResponder(), RecordingTts())
    heard = Transcript("tell me a story", 0.8, "pocketsphinx", "grammar", alternative)
    reply = pipeline.answer_transcript(heard, child)
    assert reply.category == category and reply.safe == (category != "redirect")
    assert reply.transcript == "tell me a story" and reply.heard == heard
    plain = pipeline.answer_transcript("tell me a story", child, stt_ms=12.5)
    assert plain.category == "story" and plain.timings["stt_ms"] == 12.5


def test_unsafe_speech_is_redirected_and_spoken(child: ChildContext) -> None:
    tts = RecordingTts()
    pipeline = SpeechPipeline(
        ScriptedSpeechToText(default="where is the gun"), RuleBasedResponder(), tts
    )
    reply = pipeline.open_utterance().finish(child)
    assert not reply.safe and reply.category == "redirect"
    assert tts.texts == ["Let's talk about something else! What's your favorite animal?"]


def test_pipeline_accepts_any_engines_matching_the_protocols(child: ChildContext) -> None:
    class EchoResponder:
        def __init__(self) -> None:
            self.calls: list[str] = []

        def respond(self, text: str, *, child: ChildContext) -> Reply:
            self.calls.append(text)
            return Reply(f"You said {text}.", "chat", safe=True)

    responder = EchoResponder()
    pipeline = SpeechPipeline(ScriptedSpeechToText(default="hi teddy"), responder, RecordingTts())
    reply = pipeline.open_utterance().finish(child)
    assert responder.calls == ["hi teddy"]
    assert (reply.reply_text, reply.category) == ("You said hi teddy.", "chat")
