"""What a recording says: :class:`Transcription`, the recognisers and :func:`word_error_rate`.

Owns the :class:`Recogniser` protocol, :class:`PocketSphinxRecogniser` (the default: the
model bundled with the pocketsphinx wheel), :class:`VoskRecogniser` (a configured vosk
model folder; none can be downloaded here), :func:`default_recogniser` and
:func:`word_error_rate`.

PocketSphinx, for an expected text (one reply). Three decoders over the same audio, all
computing every senone per frame (``compallsen``) so their acoustic scores share one scale:

1. a grammar decoder, first with a JSGF grammar of exactly the expected words in order
   (wide beams: with the default ones the right path of a long reply is pruned), and when
   that path cannot finish or scores under the threshold, with a grammar of the expected
   words in any order (so a reply cut short decodes as its first words, one with frames
   dropped as the words that survived);
2. a phone-loop decoder (``allphone``), the best any phone sequence explains the audio:
   the confidence reference. The grammar score is
   ``(acoustic(grammar) - acoustic(phones)) / speech frames`` (pocketsphinx log units
   per 10 ms frame); measured on 16 espeak-ng replies (en-us and en-us+klatt, with and
   without silence around them: 64 clips), the in-order grammar of the clip's own text
   scored -53..+6, another reply's text -76..-1167 or could not finish (43 of 64), so
   :data:`GRAMMAR_THRESHOLD` is -60. Speech played at 22050 Hz instead of 16000 often
   still decodes as the expected text (it is intelligible, only faster): the rate is
   caught by :mod:`hil.audio.measure`, not by the transcript;
3. when no grammar path reaches the threshold, the open-vocabulary decoder (the bundled
   language model; built on first need): audio that does not say the expected words (a
   reply played at the wrong rate, noise) is not forced onto them.

A phone loop costs a third of the open-vocabulary decoder, which is why it, not open
vocabulary (as in the server's recogniser), is the reference. Words missing from the
pronouncing dictionary are left out of the grammars (the transcript then misses them
and the WER counts them). Decoders take ~0.5 s to create, so the recogniser keeps them
for the process and the grammars of the last :data:`GRAMMAR_CACHE` expected texts;
calls are serialised by a lock.
"""

from __future__ import annotations

import json
import math
import os
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Final, Protocol

import numpy as np
import pocketsphinx
from scipy.signal import resample_poly

from hil.audio.recording import PCM_RATE, AudioError, Recording, to_pcm

GRAMMAR_THRESHOLD: Final = -60.0
GRAMMAR_CACHE: Final = 64
_CONFIDENCE = 8.0  # score units per e-fold of confidence around the threshold
_WORD = re.compile(r"[a-z0-9']+")


def words_of(text: str) -> list[str]:
    """Lower-case words, punctuation dropped (the unit of :func:`word_error_rate`)."""
    return [w.strip("'") for w in _WORD.findall(text.lower()) if w.strip("'")]


def word_error_rate(reference: str, hypothesis: str) -> float:
    """(substitutions + deletions + insertions) / reference words (Levenshtein on words).

    An empty reference gives 0.0 for an empty hypothesis and 1.0 otherwise.
    """
    ref, hyp = words_of(reference), words_of(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    row = list(range(len(hyp) + 1))
    for i, word in enumerate(ref, 1):
        previous, row[0] = row[0], i
        for j, other in enumerate(hyp, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (word != other))
    return row[-1] / len(ref)


@dataclass(frozen=True)
class Transcription:
    """A transcript; ``grammar`` is True when the expected-text grammar produced it."""

    text: str
    engine: str
    grammar: bool
    confidence: float | None


class Recogniser(Protocol):
    """Anything that turns a recording into text (``expected`` may guide it)."""

    name: str

    def transcribe(self, rec: Recording, expected: str | None) -> Transcription: ...


def pcm16k(rec: Recording) -> bytes:
    """The recording as SPEC §7.1 PCM at 16 kHz, the rate both models expect."""
    if rec.rate == PCM_RATE:
        return to_pcm(rec)
    ratio = Fraction(PCM_RATE, rec.rate)
    samples = resample_poly(rec.samples, ratio.numerator, ratio.denominator)
    return to_pcm(Recording(np.asarray(samples, dtype=np.float64), PCM_RATE))


def build_jsgf(words: list[str], *, any_order: bool) -> str:
    """A JSGF grammar of ``words`` in order, or of any of them in any order."""
    body = f"( {' | '.join(dict.fromkeys(words))} )+" if any_order else " ".join(words)
    return f"#JSGF V1.0;\ngrammar reply;\npublic <reply> = {body};\n"


def _best(decoder: Any, log_base: float) -> tuple[str, float, int] | None:
    """Text, total acoustic score (log units) and speech frames of the best path."""
    hyp = decoder.hyp()
    if hyp is None:
        return None
    acoustic, speech = 0.0, 0
    for seg in decoder.seg():
        acoustic += math.log(seg.ascore) / log_base if seg.ascore > 0 else -math.inf
        if not seg.word.startswith(("<", "[")):
            speech += seg.end_frame - seg.start_frame + 1
    return " ".join(hyp.hypstr.split()), acoustic, speech


_Path = tuple[str, float, int]  # text, acoustic score (log units), speech frames


class PocketSphinxRecogniser:
    """Grammar of the expected text, phone-loop confidence, open-vocabulary fallback."""

    name = "pocketsphinx"

    def __init__(self, *, threshold: float = GRAMMAR_THRESHOLD, model_dir: str | None = None):
        self.threshold = threshold
        root = model_dir or pocketsphinx.get_model_path()
        self._model = os.path.join(root, "en-us")
        if not os.path.isdir(self._model):
            raise AudioError(f"no pocketsphinx en-us model under {root}")
        # Wide beams: narrower ones pruned the right path of an 11-word reply after silence.
        self._grammar = self._decoder(lm=None, beam=1e-120, pbeam=1e-120, wbeam=1e-100)
        self._phones = self._decoder(lm=None, allphone=self._file("en-us-phone.lm.bin"))
        self._open: Any = None
        self._cmn = {id(d): d.get_cmn() for d in (self._grammar, self._phones)}
        self._log_base = math.log(float(self._grammar.config["logbase"]))
        self._searches: OrderedDict[str, tuple[str, str]] = OrderedDict()
        self._serial = 0
        self._lock = threading.Lock()

    def _file(self, name: str) -> str:
        return os.path.join(self._model, name)

    def _decoder(self, **options: Any) -> Any:
        try:
            return pocketsphinx.Decoder(
                hmm=self._file("en-us"),
                dict=self._file("cmudict-en-us.dict"),
                loglevel="FATAL",
                compallsen=True,  # one acoustic score scale for every decoder
                bestpath=False,
                **options,
            )
        except (RuntimeError, ValueError) as exc:
            raise AudioError(f"pocketsphinx could not start from {self._model}: {exc}") from exc

    def _open_decoder(self) -> Any:
        if self._open is None:
            self._open = self._decoder(lm=self._file("en-us.lm.bin"), fwdflat=False, maxhmmpf=3000)
            self._cmn[id(self._open)] = self._open.get_cmn()
        return self._open

    def _searches_for(self, expected: str) -> tuple[str, str] | None:
        """The (in order, any order) grammar searches of ``expected``; None without words."""
        words = [w for w in words_of(expected) if self._grammar.lookup_word(w) is not None]
        if not words:
            return None
        key = " ".join(words)
        names = self._searches.get(key)
        if names is not None:
            self._searches.move_to_end(key)
            return names
        if len(self._searches) >= GRAMMAR_CACHE:
            for old in self._searches.popitem(last=False)[1]:
                self._grammar.remove_search(old)
        self._serial += 1
        names = (f"reply{self._serial}", f"words{self._serial}")
        self._grammar.add_jsgf_string(names[0], build_jsgf(words, any_order=False))
        self._grammar.add_jsgf_string(names[1], build_jsgf(words, any_order=True))
        self._searches[key] = names
        return names

    def _decode(self, decoder: Any, pcm: bytes) -> _Path | None:
        decoder.set_cmn(self._cmn[id(decoder)])  # a transcript depends only on its audio
        decoder.start_utt()
        decoder.process_raw(pcm, False, True)
        decoder.end_utt()
        return _best(decoder, self._log_base)

    def transcribe(self, rec: Recording, expected: str | None) -> Transcription:
        pcm = pcm16k(rec)
        with self._lock:
            try:
                return self._transcribe(pcm, expected)
            except RuntimeError as exc:
                raise AudioError(f"pocketsphinx decoding failed: {exc}") from exc

    def _transcribe(self, pcm: bytes, expected: str | None) -> Transcription:
        searches = self._searches_for(expected) if expected else None
        confidence: float | None = None
        if searches is not None:
            phones = self._decode(self._phones, pcm)
            for search in searches:
                self._grammar.activate_search(search)
                path = self._decode(self._grammar, pcm)
                if path is None or not path[0] or path[2] == 0:
                    continue
                if phones is None:  # nothing to compare with: the grammar, unscored
                    return Transcription(path[0], self.name, True, None)
                score = (path[1] - phones[1]) / path[2]
                confidence = 1.0 / (1.0 + math.exp(-(score - self.threshold) / _CONFIDENCE))
                if score >= self.threshold:
                    return Transcription(path[0], self.name, True, confidence)
        free = self._decode(self._open_decoder(), pcm)
        return Transcription(free[0] if free else "", self.name, False, confidence)


class VoskRecogniser:
    """Open-vocabulary transcripts from a vosk model folder (loaded on first use)."""

    name = "vosk"

    def __init__(self, model_path: str) -> None:
        if not os.path.isdir(model_path):
            raise AudioError(f"vosk model folder {model_path!r} does not exist")
        self.model_path = model_path
        self._model: Any = None
        self._lock = threading.Lock()

    def _loaded(self) -> Any:
        if self._model is None:
            import vosk  # a heavy import, only when a vosk model is configured

            vosk.SetLogLevel(-1)
            try:
                self._model = vosk.Model(self.model_path)
            except Exception as exc:  # vosk raises a bare Exception on a bad folder
                raise AudioError(f"{self.model_path!r} is not a vosk model folder: {exc}") from exc
        return self._model

    def transcribe(self, rec: Recording, expected: str | None) -> Transcription:
        import vosk

        pcm = pcm16k(rec)
        with self._lock:
            recognizer = vosk.KaldiRecognizer(self._loaded(), float(PCM_RATE))
            recognizer.SetWords(True)
            texts: list[str] = []
            confidences: list[float] = []
            for start in range(0, len(pcm), 32000):  # 1 s pieces; vosk may end phrases
                if recognizer.AcceptWaveform(pcm[start : start + 32000]):
                    texts.append(_vosk_words(recognizer.Result(), confidences))
            texts.append(_vosk_words(recognizer.FinalResult(), confidences))
        confidence = sum(confidences) / len(confidences) if confidences else None
        return Transcription(" ".join(t for t in texts if t), self.name, False, confidence)


def _vosk_words(result_json: str, confidences: list[float]) -> str:
    try:
        result = json.loads(result_json)
    except json.JSONDecodeError as exc:
        raise AudioError(f"vosk returned invalid JSON: {result_json[:80]!r}") from exc
    for word in result.get("result") or []:
        if isinstance(word, dict) and "conf" in word:
            confidences.append(float(word["conf"]))
    return str(result.get("text", "")).strip()


_default: Recogniser | None = None
_vosk_model: str | None = None
_default_lock = threading.Lock()


def use_vosk_model(model_path: str | None) -> None:
    """Make the default recogniser vosk with this model (None: pocketsphinx).

    Called by the edges (hil.audio_cli.VOSK_MODEL_ENV), before the first
    `default_recogniser()`; a changed choice builds a new recogniser.
    """
    global _default, _vosk_model
    with _default_lock:
        if model_path != _vosk_model:
            _vosk_model, _default = model_path, None


def default_recogniser() -> Recogniser:
    """The process-wide recogniser, built on first use: vosk when `use_vosk_model` named a
    model folder, otherwise pocketsphinx."""
    global _default
    with _default_lock:
        if _default is None:
            _default = VoskRecogniser(_vosk_model) if _vosk_model else PocketSphinxRecogniser()
        return _default
