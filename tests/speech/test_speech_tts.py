"""espeak-ng text-to-speech: SPEC §7.1 PCM out, plausible speech, recognisable again."""

from __future__ import annotations

import io
import wave

import numpy as np
import pytest

from server.speech.errors import SpeechConfigError, SynthesisError
from server.speech.espeak_tts import DEFAULT_SPEED_WPM, DEFAULT_VOICE, EspeakTextToSpeech
from server.speech.interfaces import BYTES_PER_SECOND, SAMPLE_RATE
from server.speech.pipeline import transcribe
from server.speech.pocketsphinx_stt import PocketSphinxSpeechToText
from voice import errors as voice_errors
from voice.espeak import _read_wav, _resample, synthesize_clip

pytestmark = pytest.mark.unit

TTS = EspeakTextToSpeech()


def _samples(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, dtype="<i2").astype(np.float64)


def _rms(pcm: bytes) -> float:
    return float(np.sqrt(np.mean(_samples(pcm) ** 2)))


def test_hello_teddy_is_16khz_int16_speech_of_plausible_length() -> None:
    pcm = TTS.synthesize("hello teddy")
    assert len(pcm) % 2 == 0
    seconds = len(pcm) / BYTES_PER_SECOND
    assert 0.3 <= seconds <= 5.0, seconds
    assert _rms(pcm) > 500, "speech should not be near-silent"
    peak = np.abs(_samples(pcm)).max()
    assert 1000 < peak <= 32767


def test_defaults_are_en_us_at_a_child_friendly_speed() -> None:
    assert (TTS.voice, TTS.speed) == (DEFAULT_VOICE, DEFAULT_SPEED_WPM) == ("en-us", 150)
    fast = EspeakTextToSpeech(speed=300).synthesize("tell me a story")
    assert len(fast) < len(TTS.synthesize("tell me a story"))


def test_longer_text_gives_longer_audio_and_voices_differ() -> None:
    short = TTS.synthesize("hi")
    long = TTS.synthesize("Once upon a time, a little bunny found a shiny red apple.")
    assert len(long) > 2 * len(short)
    klatt = EspeakTextToSpeech("en-us+klatt").synthesize("hi")
    assert klatt != short


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_blank_text_gives_no_audio(text: str) -> None:
    assert TTS.synthesize(text) == b""


def test_text_is_never_read_as_a_command_line_option() -> None:
    pcm = TTS.synthesize("--help -v xx")
    assert _rms(pcm) > 500  # spoken, not printed as usage text


def test_missing_program_says_how_to_install_it() -> None:
    with pytest.raises(SpeechConfigError, match="apt-get install espeak-ng"):
        EspeakTextToSpeech(executable="espeak-ng-not-installed")


def test_bad_settings_and_failures_are_clear_errors() -> None:
    with pytest.raises(SpeechConfigError, match="speed"):
        EspeakTextToSpeech(speed=10)
    with pytest.raises(SpeechConfigError, match="voice"):
        EspeakTextToSpeech(voice="-x")
    with pytest.raises(SynthesisError, match="over"):
        TTS.synthesize("a" * 5000)
    with pytest.raises(voice_errors.SynthesisError, match="readable WAV"):
        _read_wav(b"not a wav")


def test_wav_parsing_and_resampling_to_16khz() -> None:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(22050)
        wav.writeframes(np.full(2 * 22050, 1000, dtype="<i2").tobytes())
    rate, samples = _read_wav(buffer.getvalue())
    assert rate == 22050 and samples.shape == (22050,)
    resampled = _resample(samples, rate)
    assert resampled.shape == (SAMPLE_RATE,)  # 1 s at 16 kHz
    assert abs(float(np.median(resampled)) - 1000) < 1
    assert _resample(samples, SAMPLE_RATE) is samples


def test_synthesize_clip_adds_the_requested_silence() -> None:
    speech = EspeakTextToSpeech("en-us", 175).synthesize("hello teddy")
    clip = synthesize_clip("hello teddy", lead_silence_s=0.5, tail_silence_s=0.25)
    assert len(clip) == len(speech) + BYTES_PER_SECOND // 2 + BYTES_PER_SECOND // 4
    assert clip[: BYTES_PER_SECOND // 2] == bytes(BYTES_PER_SECOND // 2)
    assert clip[BYTES_PER_SECOND // 2 : -BYTES_PER_SECOND // 4] == speech


@pytest.mark.slow
@pytest.mark.parametrize("phrase", ["hello teddy", "tell me a story"])
def test_round_trip_through_pocketsphinx(
    pocketsphinx_engine: PocketSphinxSpeechToText, phrase: str
) -> None:
    """The server's own voice (en-us, 150 wpm), unpadded, is recognised again."""
    heard = transcribe(pocketsphinx_engine, TTS.synthesize(phrase))
    assert (heard.text, heard.search) == (phrase, "grammar")
