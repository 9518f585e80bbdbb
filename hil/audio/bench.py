"""`python -m hil.audio.bench`: what ``expect_audio``'s analysis costs per second of audio.

Synthesises a few replies with espeak-ng (the server's voice), then times, per reply and
over ``--rounds`` rounds, the three parts of the analysis of one played reply against its
reference: :func:`~hil.audio.measure.measure`, the transcript
(:class:`~hil.audio.transcribe.PocketSphinxRecogniser`, decoders already built; building
them once per process is printed apart) and :func:`~hil.audio.artifacts.write_artifacts`
(PNG + JSON). The played copy is the reference at volume 70 % and 300 ms late, as a
passing reply is; ``--broken`` also times a reply played at 22050 Hz, the case where
the transcript falls back to open vocabulary. Prints CPU seconds per second of audio
(``process_time``, so other load on the machine does not count) and wall ms per reply.
Numbers only (README "Benchmarks"); no test asserts on them.
"""

from __future__ import annotations

import argparse
import functools
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from hil.audio.artifacts import write_artifacts
from hil.audio.measure import measure
from hil.audio.recording import Recording, from_pcm
from hil.audio.transcribe import PocketSphinxRecogniser

REPLIES = (
    "Hello! I am Teddy, your friendly bear. Do you want to hear a story?",
    "A lion says roar. Lions are big cats that live in Africa, and they sleep a lot.",
    "I feel happy today.",
)


def _timed(call: Callable[[], object]) -> tuple[float, float]:
    """CPU and wall seconds of one call."""
    cpu, wall = time.process_time(), time.perf_counter()
    call()
    return time.process_time() - cpu, time.perf_counter() - wall


def _played(reference: Recording, *, broken: bool) -> Recording:
    if broken:  # defect 10: the reference's samples played at 22050 Hz
        return Recording(reference.samples, 22050)
    late = np.concatenate([np.zeros(round(0.3 * reference.rate)), reference.samples * 0.7])
    return Recording(np.round(late * 32768) / 32768, reference.rate)


def run(rounds: int, *, broken: bool) -> None:
    from voice.espeak import synthesize_clip

    references = [(text, from_pcm(synthesize_clip(text))) for text in REPLIES]
    cpu, wall = _timed(PocketSphinxRecogniser)
    print(f"pocketsphinx decoders, built once per process: {cpu:.3f} s CPU, {wall:.3f} s wall")
    recogniser = PocketSphinxRecogniser()
    cases = [("passing (70 % volume, 300 ms late)", False)] + ([("22050 Hz", True)] * broken)
    with tempfile.TemporaryDirectory() as folder:
        for label, bad in cases:
            parts = {"measure": [0.0, 0.0], "transcribe": [0.0, 0.0], "artifacts": [0.0, 0.0]}
            audio_s = 0.0
            for index in range(rounds):
                for number, (text, ref) in enumerate(references):
                    played = _played(ref, broken=bad)
                    audio_s += played.duration_s
                    m = measure(played, ref)
                    steps: dict[str, Callable[[], object]] = {
                        "measure": functools.partial(measure, played, ref),
                        "transcribe": functools.partial(recogniser.transcribe, played, text),
                        "artifacts": functools.partial(
                            write_artifacts,
                            Path(folder),
                            f"r{index}-{number}",
                            played=played,
                            reference=ref,
                            measurements=m,
                            extra={},
                        ),
                    }
                    for name, call in steps.items():
                        spent = _timed(call)
                        parts[name][0] += spent[0]
                        parts[name][1] += spent[1]
            replies = rounds * len(references)
            print(f"{label}: {replies} replies, {audio_s:.1f} s of audio")
            for name, (cpu, wall) in parts.items():
                print(
                    f"  {name:11s} {cpu / audio_s:.4f} s CPU per s of audio, "
                    f"{wall / replies * 1e3:7.1f} ms wall per reply"
                )
            total = sum(c for c, _ in parts.values())
            print(f"  {'total':11s} {total / audio_s:.4f} s CPU per s of audio")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=3, help="times each reply is analysed")
    parser.add_argument("--broken", action="store_true", help="also time a 22050 Hz reply")
    args = parser.parse_args(argv)
    run(args.rounds, broken=args.broken)


if __name__ == "__main__":
    main()
