"""What the speaker plays of one reply frame: the `play` effect (SPEC §7.3, Appendix C).

Owns the playback quirks of SPEC Appendix C: `playback_rate` (the DAC runs at HZ instead
of the frame's `sample_rate`, defect 10), `drop_frames` (every Nth frame, seq % N == N-1,
is not played), `mute_playback` (silence of the frame's length) and `playback_gain` (the
samples times GAIN, saturating at full scale). The reply itself is untouched: the
`audio.rx.*` events and `rx-<id>.wav` (the `play` effect's `received`) are the frame as
the server sent it; only `pcm` and `sample_rate`, what the DAC plays, change. The C twin
is `dev_play_frame` in teddy_core's device_reply.c; the device traces pin both.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Mapping

from emulator.core.effects import Play
from protocol.constants import SAMPLE_RATE
from protocol.device import quirk_int
from protocol.device_model import Quirk

_FULL_SCALE = 32767


def _value(quirks: Mapping[Quirk, str], quirk: Quirk) -> int | None:
    """An integer quirk's value when it is on (the parsers checked its range)."""
    value = quirks.get(quirk)
    return None if value is None else quirk_int(quirk, value)


def amplify(pcm: bytes, gain: int) -> bytes:
    """s16le samples times `gain`, saturated at -32768..32767 (an odd last byte is kept)."""
    even = len(pcm) // 2 * 2
    samples = array("h", pcm[:even])
    if sys.byteorder == "big":
        samples.byteswap()
    out = array("h", (max(-_FULL_SCALE - 1, min(_FULL_SCALE, s * gain)) for s in samples))
    if sys.byteorder == "big":
        out.byteswap()
    return out.tobytes() + pcm[even:]


def play_frame(quirks: Mapping[Quirk, str], session: str, seq: int, pcm: bytes) -> Play:
    """The `play` effect of frame `seq` of a reply, with the active playback quirks."""
    rate = _value(quirks, "playback_rate") or SAMPLE_RATE  # frames are 16 kHz (SPEC §7.1)
    every = _value(quirks, "drop_frames")
    gain = _value(quirks, "playback_gain")
    played = pcm
    if every is not None and seq % every == every - 1:
        played = b""
    elif "mute_playback" in quirks:
        played = bytes(len(pcm))
    elif gain is not None and gain != 1:
        played = amplify(pcm, gain)
    # `received` only when the DAC plays something else, so an unquirked trace stays small.
    return Play(session, played, rate, pcm if played != pcm else b"")
