"""Offline English speech-to-text with pocketsphinx: a phrase grammar, then open vocabulary.

Owns :class:`PocketSphinxSpeechToText`. Each stream runs two decoders over the same
audio as it arrives (SPEC §7.2 chunks; ``process_raw`` per chunk, so ``finish`` only
flushes): one constrained to a JSGF grammar of the responder's phrases
(:data:`server.speech.responder.GRAMMAR_PHRASES`) and one with the bundled open
vocabulary language model. The grammar transcript is used when it is confident, else
the open-vocabulary one. The grammar recognises espeak-ng speech well and
open vocabulary poorly; measured here, of the 38 grammar phrases en-us+klatt gets 38
exactly right (WER 0 %) and en-us 31 (WER 16.7 %), while open-vocabulary WER on other
sentences is 40 % (klatt) and 76 % (en-us).

Confidence. Both decoders compute every senone each frame (``compallsen``), so their
acoustic scores share one scale. The grammar score is
``(acoustic(grammar path) - acoustic(open path)) / speech frames`` in pocketsphinx log
units (base 1.0001) per 10 ms frame of non-silence in the grammar path: near 0 when
the grammar explains the audio as well as free decoding, strongly negative when the
grammar forced the audio onto a phrase that was not said. The default threshold of
-32 comes from ``python -m server.speech.bench --calibrate`` (espeak-ng voices en-us and
en-us+klatt, the 38 grammar phrases and 40 off-grammar sentences): correctly decoded
grammar phrases scored -37..+1, off-grammar sentences -152..-15. -32 gives 9.2 % false
rejects (5.3 points of them are clips the grammar cannot finish at all) and 3.8 % false
accepts; -33 is one clip better on the sum but accepts "i like pizza" as "i feel sad",
and a false accept answers the wrong question while a false reject only falls back to
open vocabulary, so the stricter value is kept. Two of the three accepted off-grammar
sentences differ from a grammar phrase by one word ("what does a lion say" -> duck).
Recalibrate with real microphone recordings before trusting it for children's voices.

Decoders take ~0.5 s to create, so each engine keeps a small pool of decoder pairs and
lends one to each open stream until it finishes or closes: streams never interleave on a
decoder, and up to ``max_streams`` utterances decode in parallel. Memory per pair, as
measured for issue 13: the grammar decoder 28 MB, the open-vocabulary decoder 91 MB (its
language model; the ``mmap`` option does not help), ~120 MB a pair. Pairs are created only
when needed; the server sizes ``max_streams`` from its ``speech_memory_mb`` budget
(``server.speech_capacity.slots_for_memory``: 480 MB, 4 pairs, by default). A device
streams in real time, so a pair is held for the whole utterance while decoding costs ~15 %
of one core. The server's capacity queue (``server.speech_capacity``, SPEC §6.5 rule 11)
has exactly ``max_streams`` slots, so a stream it opens never waits in
:meth:`PocketSphinxSpeechToText._acquire`; the timed wait there guards only other callers
(bench, tests). The cepstral mean is reset at every stream start, so a transcript depends
only on its own audio.
"""

from __future__ import annotations

import math
import os
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import pocketsphinx

from server.speech.errors import SpeechBusyError, SpeechConfigError, SpeechError, StreamClosedError
from server.speech.interfaces import Transcript
from server.speech.responder import GRAMMAR_PHRASES

ENGINE_NAME = "pocketsphinx"
GRAMMAR_SEARCH = "teddy_grammar"
DEFAULT_GRAMMAR_THRESHOLD = -32.0
_CONFIDENCE_SCALE = 8.0  # score units per e-fold of the 0..1 confidence around the threshold
_PHRASE = re.compile(r"[a-z']+(?: [a-z']+)*")
_T = TypeVar("_T")


def build_jsgf(phrases: Sequence[str]) -> str:
    """A JSGF grammar whose one public rule is any single phrase."""
    bad = [p for p in phrases if not _PHRASE.fullmatch(p)]
    if bad or not phrases:
        raise SpeechConfigError(f"grammar phrases must be lower-case words, got {bad!r}")
    body = " | ".join(f"( {p} )" for p in dict.fromkeys(phrases))
    return f"#JSGF V1.0;\ngrammar teddy;\npublic <utterance> = {body};\n"


def grammar_confidence(score: float, threshold: float) -> float:
    """Map a grammar score to 0..1; exactly 0.5 at the acceptance threshold."""
    return 1.0 / (1.0 + math.exp(-(score - threshold) / _CONFIDENCE_SCALE))


@dataclass
class _Path:
    """One decoder's best path: text, total acoustic score and non-filler frames."""

    text: str
    acoustic: float
    speech_frames: int


def grammar_score(grammar: _Path | None, open_path: _Path | None) -> float | None:
    """Acoustic score per speech frame of the grammar path over the open path."""
    if grammar is None or open_path is None or grammar.speech_frames == 0:
        return None
    return (grammar.acoustic - open_path.acoustic) / grammar.speech_frames


def _best_path(decoder: Any, log_base: float) -> _Path | None:
    hyp = decoder.hyp()
    if hyp is None:
        return None
    acoustic, speech = 0.0, 0
    for seg in decoder.seg():
        # Segment scores arrive as base**score; take the log back (never underflows
        # here: a whole utterance is a few thousand units).
        acoustic += math.log(seg.ascore) / log_base if seg.ascore > 0 else -math.inf
        if not seg.word.startswith(("<", "[")):
            speech += seg.end_frame - seg.start_frame + 1
    return _Path(" ".join(hyp.hypstr.split()), acoustic, speech)


class _DecoderPair:
    """A grammar decoder and an open-vocabulary decoder, with their start-up CMN."""

    def __init__(self, model_dir: str, jsgf: str, words: Sequence[str]) -> None:
        common: dict[str, Any] = {
            "hmm": os.path.join(model_dir, "en-us", "en-us"),
            "dict": os.path.join(model_dir, "en-us", "cmudict-en-us.dict"),
            "loglevel": "FATAL",
            "compallsen": True,  # one score scale for both decoders (module docstring)
        }
        try:
            # bestpath off: the lattice pass returned truncated grammar phrases.
            self.grammar = pocketsphinx.Decoder(**common, lm=None, bestpath=False)
            missing = [w for w in words if self.grammar.lookup_word(w) is None]
            if missing:
                raise SpeechConfigError(f"grammar words missing from the dictionary: {missing}")
            self.grammar.add_jsgf_string(GRAMMAR_SEARCH, jsgf)
            self.grammar.activate_search(GRAMMAR_SEARCH)
            # fwdtree only (no fwdflat/bestpath): same accuracy on our clips, finish
            # latency 8 ms instead of 50-140 ms, and segment scores stay comparable.
            self.open = pocketsphinx.Decoder(
                **common,
                lm=os.path.join(model_dir, "en-us", "en-us.lm.bin"),
                fwdflat=False,
                bestpath=False,
                maxhmmpf=3000,
            )
        except (RuntimeError, ValueError) as exc:
            raise SpeechConfigError(
                f"pocketsphinx could not start from {model_dir}: {exc}"
            ) from exc
        self.cmn = (self.grammar.get_cmn(), self.open.get_cmn())
        self.log_base = math.log(float(self.grammar.config["logbase"]))
        self.in_utterance = False

    def start(self) -> None:
        self.grammar.set_cmn(self.cmn[0])
        self.open.set_cmn(self.cmn[1])
        self.grammar.start_utt()
        self.open.start_utt()
        self.in_utterance = True

    def process(self, pcm: bytes) -> None:
        self.grammar.process_raw(pcm, False, False)
        self.open.process_raw(pcm, False, False)

    def end(self) -> tuple[_Path | None, _Path | None]:
        self.in_utterance = False
        self.grammar.end_utt()
        self.open.end_utt()
        return _best_path(self.grammar, self.log_base), _best_path(self.open, self.log_base)


class PocketSphinxSpeechToText:
    """English speech-to-text from the model bundled with the pocketsphinx wheel."""

    def __init__(
        self,
        *,
        phrases: Sequence[str] = GRAMMAR_PHRASES,
        grammar_threshold: float = DEFAULT_GRAMMAR_THRESHOLD,
        max_streams: int = 4,
        acquire_timeout_s: float = 10.0,
        model_dir: str | None = None,
    ) -> None:
        if max_streams < 1:
            raise SpeechConfigError("max_streams must be at least 1")
        self.phrases = tuple(dict.fromkeys(phrases))
        self.grammar_threshold = grammar_threshold
        self.max_streams = max_streams
        self.acquire_timeout_s = acquire_timeout_s
        self._model_dir = model_dir or pocketsphinx.get_model_path()
        if not os.path.isdir(os.path.join(self._model_dir, "en-us")):
            raise SpeechConfigError(f"no pocketsphinx en-us model under {self._model_dir}")
        self._jsgf = build_jsgf(self.phrases)
        self._words = sorted({w for p in self.phrases for w in p.split()})
        self._idle = [self._new_pair()]  # fail fast on a broken model or grammar
        self._created = 1
        self._cond = threading.Condition()

    def open_stream(self) -> PocketSphinxStream:
        return PocketSphinxStream(self, self._acquire())

    def _new_pair(self) -> _DecoderPair:
        return _DecoderPair(self._model_dir, self._jsgf, self._words)

    def _acquire(self) -> _DecoderPair:
        with self._cond:
            ready = self._cond.wait_for(
                lambda: bool(self._idle) or self._created < self.max_streams,
                timeout=self.acquire_timeout_s,
            )
            if not ready:
                raise SpeechBusyError(
                    f"all {self.max_streams} pocketsphinx decoders busy for "
                    f"{self.acquire_timeout_s} s; raise max_streams or finish streams"
                )
            if self._idle:
                return self._idle.pop()
            self._created += 1  # reserve the slot; build outside the lock
        try:
            return self._new_pair()
        except BaseException:
            self._discard()
            raise

    def _release(self, pair: _DecoderPair, *, broken: bool = False) -> None:
        if pair.in_utterance and not broken:
            try:
                pair.end()
            except RuntimeError:
                broken = True
        if broken:
            self._discard()  # a decoder that failed mid-utterance is never reused
            return
        with self._cond:
            self._idle.append(pair)
            self._cond.notify()

    def _discard(self) -> None:
        with self._cond:
            self._created -= 1
            self._cond.notify()

    def _choose(self, grammar: _Path | None, open_path: _Path | None) -> Transcript:
        """The grammar transcript when it is a whole phrase scoring over the threshold."""
        open_text = open_path.text if open_path else ""
        if grammar is None or grammar.text not in self.phrases:
            alternative = grammar.text if grammar else None
            return Transcript(open_text, None, ENGINE_NAME, "open", alternative or None)
        score = grammar_score(grammar, open_path)
        if score is None:  # no open path to compare with: trust the grammar, unscored
            return Transcript(grammar.text, None, ENGINE_NAME, "grammar", None)
        if score < self.grammar_threshold:
            return Transcript(open_text, None, ENGINE_NAME, "open", grammar.text)
        confidence = grammar_confidence(score, self.grammar_threshold)
        return Transcript(grammar.text, confidence, ENGINE_NAME, "grammar", open_text or None)


class PocketSphinxStream:
    """One utterance on a borrowed decoder pair (see :class:`RecognitionStream`)."""

    def __init__(self, engine: PocketSphinxSpeechToText, pair: _DecoderPair) -> None:
        self._engine = engine
        self._pair: _DecoderPair | None = pair
        self._lock = threading.Lock()
        self._carry = b""
        self.grammar_score: float | None = None  # set by finish(); see bench --calibrate
        self._guarded(pair.start)

    def feed(self, pcm: bytes) -> None:
        with self._lock:
            pair = self._live()
            data = self._carry + bytes(pcm)
            usable = len(data) - len(data) % 2
            self._carry = data[usable:]
            if usable:
                chunk = data[:usable]
                self._guarded(lambda: pair.process(chunk))

    def finish(self) -> Transcript:
        with self._lock:
            pair = self._live()
            grammar, open_path = self._guarded(pair.end)
            self._give_back()
        self.grammar_score = grammar_score(grammar, open_path)
        return self._engine._choose(grammar, open_path)

    def close(self) -> None:
        with self._lock:
            self._give_back()

    def __del__(self) -> None:
        # Safety net: a stream dropped without finish/close still returns its decoders.
        if getattr(self, "_pair", None) is not None:
            self._give_back()

    def _live(self) -> _DecoderPair:
        if self._pair is None:
            raise StreamClosedError("pocketsphinx stream already finished or closed")
        return self._pair

    def _give_back(self, *, broken: bool = False) -> None:
        pair, self._pair = self._pair, None
        if pair is not None:
            self._engine._release(pair, broken=broken)

    def _guarded(self, call: Callable[[], _T]) -> _T:
        try:
            return call()
        except RuntimeError as exc:
            self._give_back(broken=True)
            raise SpeechError(f"pocketsphinx decoding failed: {exc}") from exc
