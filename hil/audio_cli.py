"""`teddy-hil audio`: judge a recording by hand, and calibrate a bench's sound card.

- `teddy-hil audio judge PLAYED.wav [--reference SENT.wav] [--text WORDS] [--limit K=V]`
  measures a recording (a speaker output, a sound-card capture, a server's received
  utterance) the way `expect_audio` does, prints every value and each limit it breaks,
  and writes the waveform/spectrogram image and JSON next to `--out` (exit 1 on a
  violation). A firmware developer reproduces a bug from the files of a failed run.
- `teddy-hil audio calibrate [--device NAME] [--rate HZ]` plays a chirp through a sound
  card's output and finds it at its input (a loopback cable), and prints the round-trip
  latency to write into the bench file (`audio: {latency: ...}`).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from hil.errors import HilError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
# The recogniser choice of `teddy-hil run` and pytest (`--vosk-model`), read at those edges.
VOSK_MODEL_ENV: Final = "TEDDY_HIL_VOSK_MODEL"
VOSK_MODEL_HELP: Final = (
    f"vosk model folder expect_audio transcribes with (default: ${VOSK_MODEL_ENV},"
    " else pocketsphinx)"
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="teddy-hil audio", description="Judge audio recordings; calibrate a sound card."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    judge = sub.add_parser("judge", help="measure a recording like expect_audio does")
    judge.add_argument("played", type=Path, help="the recording to judge (WAV, any rate)")
    judge.add_argument("--reference", type=Path, help="what should have been played (WAV)")
    judge.add_argument("--text", help="the words it should say (for the word error rate)")
    judge.add_argument(
        "--limit",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override one limit of expect_audio (repeatable; VALUE `null` switches it off)",
    )
    judge.add_argument(
        "--out", type=Path, default=Path("."), help="folder for the image and JSON (default: .)"
    )
    cal = sub.add_parser("calibrate", help="measure a sound card's round-trip latency")
    cal.add_argument("--device", help="sounddevice name or index (default: the default card)")
    cal.add_argument("--rate", type=int, default=48000, help="sample rate (default: 48000)")
    return parser


def _limits(pairs: Sequence[str]) -> dict[str, object]:
    import yaml

    found: dict[str, object] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise HilError(f"--limit {pair!r}: write NAME=VALUE, e.g. min_snr_db=15")
        found[name.strip()] = yaml.safe_load(value)
    return found


def cmd_judge(args: argparse.Namespace) -> int:
    from hil import audio_truth as at
    from hil.audio.limits import DEFAULT_LIMITS, AudioLimits
    from hil.audio.recording import load_wav

    try:
        limits = AudioLimits.from_mapping(_limits(args.limit), base=DEFAULT_LIMITS)
        played = load_wav(args.played)
        reference = load_wav(args.reference) if args.reference else None
    except (OSError, ValueError) as exc:
        raise HilError(str(exc)) from exc
    evidence = at.Evidence("reply", args.played.stem, played, reference, args.text)
    verdict = at.judge(
        evidence, limits, expected_text=args.text, from_wall=lambda w: w, folder=args.out
    )
    for name, value in verdict.values().items():
        if name not in ("violations", "artifacts"):
            print(f"{name}: {value}")
    for path in verdict.artifacts:
        print(f"wrote {path}")
    for violation in verdict.violations:
        print(f"VIOLATION {violation.text()}")
    return EXIT_FAILED if verdict.violations else EXIT_OK


def cmd_calibrate(args: argparse.Namespace) -> int:
    from hil.targets.soundcard import SoundDeviceCard, calibrate_latency

    device = args.device
    latency = asyncio.run(calibrate_latency(SoundDeviceCard(device, rate=args.rate)))
    print(f"round-trip latency: {latency * 1000:.1f} ms")
    print(f"bench entry: audio: {{latency: {latency * 1000:.1f}ms, rate: {args.rate}}}")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return cmd_judge(args) if args.command == "judge" else cmd_calibrate(args)
    except HilError as exc:
        print(f"teddy-hil audio: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
