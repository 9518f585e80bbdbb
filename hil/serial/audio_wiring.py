"""A board's audio path on the bench: how the harness hears its speaker and feeds its mic.

Owns the bench entry's `audio:` mapping (and `--serial-audio` for a board given by its
port), parsed into `AudioWiring`, and building the `AudioPath` it describes:

```yaml
    audio:
      output: sounddevice:USB Audio    # the amplifier's output (or a mic at the speaker)
      input: sounddevice:USB Audio     # the card's output, wired to the board's mic/line-in
      rate: 48000                      # the card's sample rate
      latency: calibrate               # or 12ms: the card's round trip, output to input
```

`output: files:DIR` is a board that writes its speaker output as files
(`out-<id>.wav` with sidecars: the virtual board, whose DIR is its `audio` folder). A
board with an `output` offers the capability `audio_capture`; `latency: calibrate` plays
a chirp at start and needs a loopback cable from the card's output to its input.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from hil.scenario.values import parse_duration
from hil.targets.audio_path import AudioPath, SpeakerFiles

FILES: Final = "files:"
SOUNDDEVICE: Final = "sounddevice"
CALIBRATE: Final = "calibrate"
AUDIO_KEYS: Final = ("output", "input", "rate", "latency")
_FORMS: Final = "files:DIR, sounddevice or sounddevice:NAME"

Problem = Callable[[str, str], None]  # (where, what is wrong and what to do)


@dataclass(frozen=True)
class AudioWiring:
    """What the bench says is wired to a board's speaker and microphone."""

    output: str | None = None  # files:DIR | sounddevice[:NAME]
    input: str | None = None  # sounddevice[:NAME]
    rate: int = 48000
    latency_s: float | None = None  # None with `calibrate`, or when nothing is wired
    calibrate: bool = False

    @property
    def hears_speaker(self) -> bool:
        return self.output is not None

    def speaker_files(self) -> SpeakerFiles:
        assert self.output is not None and self.output.startswith(FILES)
        return SpeakerFiles(Path(self.output[len(FILES) :]).expanduser())

    async def open_path(self) -> AudioPath | None:
        """The `AudioPath` this wiring describes (calibrated when asked); None without one."""
        if self.output is None:
            return None
        if self.output.startswith(FILES):
            return self.speaker_files()
        # numpy/scipy and PortAudio load only for a bench with a sound card.
        from hil.targets.soundcard import SoundCardPath, SoundDeviceCard, calibrate_latency

        card = SoundDeviceCard(_device_name(self.output), rate=self.rate)
        latency = await calibrate_latency(card) if self.calibrate else self.latency_s or 0.0
        path = SoundCardPath(card, latency_s=latency)
        await path.open()
        return path


def _device_name(spec: str) -> str | None:
    _, _, name = spec.partition(":")
    return name.strip() or None


def _endpoint(value: object, where: str, problem: Problem, *, files_ok: bool) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    if text.startswith(FILES) and files_ok and text[len(FILES) :].strip():
        return text
    if text == SOUNDDEVICE or text.startswith(SOUNDDEVICE + ":"):
        return text
    forms = _FORMS if files_ok else "sounddevice or sounddevice:NAME"
    problem(where, f"{text!r} is not an audio endpoint; use {forms}")
    return None


def parse_audio_wiring(data: object, where: str, problem: Problem) -> AudioWiring:
    """The `audio:` mapping of a bench entry; every problem goes to `problem`."""
    if data is None:
        return AudioWiring()
    if not isinstance(data, Mapping):
        problem(where, f"must be a mapping with {', '.join(AUDIO_KEYS)}")
        return AudioWiring()
    for key in data:
        if key not in AUDIO_KEYS:
            problem(f"{where}.{key}", f"unknown key; valid: {', '.join(AUDIO_KEYS)}")
    rate = data.get("rate", 48000)
    if not isinstance(rate, int) or isinstance(rate, bool) or not 8000 <= rate <= 192000:
        problem(f"{where}.rate", f"{rate!r} is not a sample rate 8000..192000")
        rate = 48000
    latency: float | None = None
    calibrate = False
    raw = data.get("latency")
    if raw == CALIBRATE:
        calibrate = True
    elif raw is not None:
        try:
            latency = parse_duration(raw)
        except ValueError as exc:
            problem(f"{where}.latency", f"{exc}; or `{CALIBRATE}` (needs a loopback cable)")
    output = _endpoint(data.get("output"), f"{where}.output", problem, files_ok=True)
    mic = _endpoint(data.get("input"), f"{where}.input", problem, files_ok=False)
    return AudioWiring(output, mic, rate, latency, calibrate)


def parse_audio_option(text: str) -> AudioWiring:
    """`--serial-audio OUTPUT[,latency=12ms]` for a board given by its port."""
    head, _, rest = text.partition(",")
    data: dict[str, object] = {"output": head}
    for part in filter(None, (p.strip() for p in rest.split(","))):
        key, _, value = part.partition("=")
        data[key.strip()] = int(value) if key.strip() == "rate" and value.isdigit() else value
    problems: list[str] = []
    wiring = parse_audio_wiring(data, "--serial-audio", lambda w, what: problems.append(what))
    if problems:
        raise ValueError("; ".join(problems))
    return wiring
