"""Latency benchmark and grammar-threshold calibration for the speech pipeline.

Owns two measurements, runnable as ``python -m server.speech.bench``:

* :func:`run_benchmark`: a 2 s utterance fed in SPEC §7.2 chunks (4096 bytes); times
  the speech-to-text ``finish`` after the last chunk, the responder and text-to-speech,
  and prints p50/p95 over N runs.
* :func:`calibrate` (``--calibrate``): grammar scores of every grammar phrase and of
  off-grammar sentences, spoken by espeak-ng voices, with the false-reject and
  false-accept rates a threshold would give. This is how
  ``pocketsphinx_stt.DEFAULT_GRAMMAR_THRESHOLD`` was chosen.

Clock reads are fine here (server code, not ``protocol``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

from server.speech.espeak_tts import EspeakTextToSpeech
from server.speech.interfaces import (
    BYTES_PER_SECOND,
    ChildContext,
    Responder,
    SpeechToText,
    TextToSpeech,
)
from server.speech.pipeline import feed_in_chunks
from server.speech.pocketsphinx_stt import DEFAULT_GRAMMAR_THRESHOLD, PocketSphinxSpeechToText
from server.speech.responder import GRAMMAR_PHRASES, RuleBasedResponder, intent_of
from server.speech.vosk_stt import select_speech_to_text
from voice.espeak import synthesize_clip

BENCH_PHRASE = "why is the sky blue"
VOICES = ("en-us", "en-us+klatt")
OFF_GRAMMAR = (
    "the elephant climbed a tall tree", "my phone number is five five five",
    "i want to go to the park", "please open the door", "what is your dog",
    "tell me about dinosaurs", "good morning mommy", "i like pizza", "can we play outside",
    "where is my mom", "do you like cookies", "my brother took my toy", "what time is it",
    "i can ride a bike", "look at my drawing", "the cat is sleeping", "why do birds fly",
    "are you a real bear", "i want a cookie", "how many legs does a spider have",
    "tell me a secret", "i have a dog", "can you dance", "my name is sam",
    "i am five years old", "sing me a lullaby", "i love my mom", "the sky is big",
    "count the stars", "what does a lion say", "where does the sun go", "i am hungry",
    "let us play a game", "what is a volcano", "can i have a puppy", "read me a book",
    "i drew a picture", "where is my teddy", "the moon is bright", "do you have a friend",
)  # fmt: skip


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (fraction in 0..1) of a non-empty sample."""
    ordered = sorted(values)
    rank = max(1, round(fraction * len(ordered) + 0.5))
    return ordered[min(rank, len(ordered)) - 1]


def word_errors(reference: str, hypothesis: str) -> int:
    """Word-level Levenshtein distance (substitutions + insertions + deletions)."""
    ref, hyp = reference.split(), hypothesis.split()
    row = list(range(len(hyp) + 1))
    for i, word in enumerate(ref, 1):
        previous, row[0] = row[0], i
        for j, other in enumerate(hyp, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (word != other))
    return row[-1]


def word_error_rate(pairs: Sequence[tuple[str, str]]) -> float:
    """WER over (reference, hypothesis) pairs."""
    words = sum(len(ref.split()) for ref, _ in pairs)
    return sum(word_errors(ref, hyp) for ref, hyp in pairs) / max(words, 1)


def two_second_utterance(text: str = BENCH_PHRASE, voice: str = "en-us+klatt") -> bytes:
    """``text`` spoken with silence padded to exactly 2 s (or cut to 2 s)."""
    clip = synthesize_clip(text, voice=voice, lead_silence_s=0.3, tail_silence_s=0.0)
    target = 2 * BYTES_PER_SECOND
    return (clip + bytes(target))[:target]


@dataclass(frozen=True)
class BenchResult:
    """Milliseconds per stage over all runs, and the last transcript and reply."""

    stt_finish_ms: list[float]
    stt_feed_ms: list[float]
    respond_ms: list[float]
    tts_ms: list[float]
    transcript: str
    reply: str

    def render(self) -> str:
        rows = [
            ("stt feed (2 s, all chunks)", self.stt_feed_ms),
            ("stt finish after last chunk", self.stt_finish_ms),
            ("responder", self.respond_ms),
            ("tts", self.tts_ms),
        ]
        lines = [f"{'stage':30s} {'p50 ms':>9s} {'p95 ms':>9s}"]
        for name, values in rows:
            p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
            lines.append(f"{name:30s} {p50:9.2f} {p95:9.2f}")
        lines.append(f"heard {self.transcript!r} -> {self.reply!r}")
        return "\n".join(lines)


def run_benchmark(
    *, runs: int, stt: SpeechToText, responder: Responder, tts: TextToSpeech, pcm: bytes
) -> BenchResult:
    """Time each stage of ``runs`` utterances (feeding is not paced to real time)."""
    child = ChildContext(name="Mia", age=7)
    feed, finish, respond, speak = [], [], [], []
    transcript = reply = ""
    for _ in range(runs):
        t0 = time.perf_counter()
        stream = stt.open_stream()
        feed_in_chunks(stream, pcm)
        t1 = time.perf_counter()
        transcript = stream.finish().text
        t2 = time.perf_counter()
        answer = responder.respond(transcript, child=child)
        t3 = time.perf_counter()
        tts.synthesize(answer.text)
        t4 = time.perf_counter()
        reply = answer.text
        feed.append((t1 - t0) * 1000)
        finish.append((t2 - t1) * 1000)
        respond.append((t3 - t2) * 1000)
        speak.append((t4 - t3) * 1000)
    return BenchResult(finish, feed, respond, speak, transcript, reply)


@dataclass(frozen=True)
class CalibrationRow:
    """One clip: what was said, what the grammar and the engine heard, and the score."""

    voice: str
    text: str
    in_grammar: bool
    grammar_text: str
    heard: str
    score: float | None


def calibrate(engine: PocketSphinxSpeechToText, voices: Sequence[str]) -> list[CalibrationRow]:
    """Grammar score of every grammar phrase and off-grammar sentence per voice."""
    rows = []
    for voice in voices:
        for text in (*GRAMMAR_PHRASES, *OFF_GRAMMAR):
            clip = synthesize_clip(text, voice=voice)
            stream = engine.open_stream()
            feed_in_chunks(stream, clip)
            heard = stream.finish()
            said = heard.text if heard.search == "grammar" else heard.alternative or ""
            in_grammar = text in GRAMMAR_PHRASES
            rows.append(
                CalibrationRow(voice, text, in_grammar, said, heard.text, stream.grammar_score)
            )
    return rows


def render_calibration(rows: Sequence[CalibrationRow], thresholds: Sequence[float]) -> str:
    """Score ranges and, per threshold, the false-reject / false-accept rates."""
    hits = [r.score for r in rows if r.in_grammar and r.grammar_text == r.text and r.score]
    misses = [r.score for r in rows if not r.in_grammar and r.score is not None]
    n_in = sum(r.in_grammar for r in rows)
    n_out = len(rows) - n_in
    lines = [f"{len(rows)} clips: {n_in} in-grammar, {n_out} off-grammar"]
    if hits:
        lines.append(f"in-grammar scores   {min(hits):7.1f} .. {max(hits):6.1f}")
    if misses:
        lines.append(f"off-grammar scores  {min(misses):7.1f} .. {max(misses):6.1f}")
    for threshold in thresholds:
        rejected = n_in - sum(s >= threshold for s in hits)
        accepted = sum(s >= threshold for s in misses)
        lines.append(
            f"threshold {threshold:6.1f}: false reject {rejected / n_in:5.1%} "
            f"false accept {accepted / n_out:5.1%}"
        )
    for voice in dict.fromkeys(r.voice for r in rows):
        mine = [r for r in rows if r.voice == voice and r.in_grammar]
        exact = sum(r.heard == r.text for r in mine)
        intent = sum(intent_of(r.heard) == intent_of(r.text) for r in mine)
        wer_in = word_error_rate([(r.text, r.heard) for r in mine])
        wer_out = word_error_rate(
            [(r.text, r.heard) for r in rows if r.voice == voice and not r.in_grammar]
        )
        lines.append(
            f"{voice}: at threshold {DEFAULT_GRAMMAR_THRESHOLD}, {exact}/{len(mine)} grammar "
            f"phrases transcribed exactly, {intent}/{len(mine)} reach the right intent, "
            f"WER {wer_in:.1%} in grammar, {wer_out:.1%} off grammar"
        )
    for r in sorted(rows, key=lambda r: -1e9 if r.score is None else r.score):
        tag = "IN " if r.in_grammar else "OUT"
        score = "  none" if r.score is None else f"{r.score:6.1f}"
        lines.append(
            f"  {score} {tag} {r.voice:12s} {r.text!r} -> {r.grammar_text!r} | {r.heard!r}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m server.speech.bench", description=__doc__)
    parser.add_argument("--runs", type=int, default=20, help="utterances to time (default 20)")
    parser.add_argument("--calibrate", action="store_true", help="grammar score calibration")
    args = parser.parse_args(argv)
    if args.calibrate:
        engine = PocketSphinxSpeechToText(max_streams=1)
        thresholds = [float(t) for t in range(-40, -23)]
        print(render_calibration(calibrate(engine, VOICES), thresholds))
        return 0
    stt = select_speech_to_text(os.environ)
    print(f"speech-to-text: {type(stt).__name__}; {args.runs} runs of a 2 s utterance")
    result = run_benchmark(
        runs=args.runs,
        stt=stt,
        responder=RuleBasedResponder(),
        tts=EspeakTextToSpeech(),
        pcm=two_second_utterance(),
    )
    print(result.render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
