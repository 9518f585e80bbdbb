"""Which existing scenario catches each device quirk (SPEC Appendix C), and how it fails.

The harness's own proof that its checks catch a misbehaving device: each quirk of the
device model is switched on in a scenario of the suite that passes on a correct device,
and the run must fail with the reason given here (a built-in invariant of
hil/rules/invariants.py, or a step). tests/hil/test_quirks_caught.py runs the table on
the emulator, tests/firmware/test_fw_host_quirks.py on the C firmware; a quirk missing
from the table (one no scenario catches) fails both.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Final

from hil.scenario import model as m
from hil.scenario.loader import load_scenario
from protocol.device_model import QUIRK_SPECS, Quirk

REPO: Final = Path(__file__).resolve().parents[2]


@dataclasses.dataclass(frozen=True)
class Catcher:
    quirk: Quirk
    scenario: str  # under scenarios/
    reason: str  # a regex the failure reason starts with


CATCHERS: Final[tuple[Catcher, ...]] = (
    Catcher("reuse_nonce", "claim/nonce_conflict.yaml", r"invariant nonce_unique "),
    Catcher("retry_same_nonce", "claim/wrong_hmac.yaml", r"invariant nonce_unique "),
    Catcher("omit_authorization", "claim/happy.yaml", r"invariant upgrade_bearer "),
    Catcher("present_token", "claim/happy.yaml", r"no ws\.open matching within"),
    Catcher(
        "no_percent_encoding",
        "streaming/child_name_with_spaces.yaml",
        r"invariant query_encoded ",
    ),
    Catcher("send_handshake", "claim/happy.yaml", r"invariant json_frames .*'handshake'"),
    Catcher(
        "audio_end_before_final",
        "streaming/one_turn.yaml",
        r"invariant no_error_frame .*unknown_audio_session",
    ),
    Catcher(
        "audio_before_start",
        "streaming/one_turn.yaml",
        r"invariant no_error_frame .*unknown_audio_session",
    ),
    Catcher("ignore_etag", "config/etag_304.yaml", r"no config\.ok matching within"),
    Catcher("oversize_frame", "streaming/text_message.yaml", r"invariant json_frames .*over 65536"),
    # The playback quirks leave every event and the wire as they were: only what the
    # speaker played differs, so only expect_audio (hil.audio) catches them.
    Catcher("playback_rate", "audio/reply_sound.yaml", r".*expect_audio.*: effective_rate_hz = 22"),
    Catcher("drop_frames", "audio/reply_sound.yaml", r".*expect_audio.*: duration_ratio = 0\.8"),
    Catcher("playback_gain", "audio/reply_sound.yaml", r".*expect_audio.*: clip_ratio = 0\.0"),
    Catcher("mute_playback", "audio/reply_sound.yaml", r".*expect_audio.*: rms_dbfs = -120 "),
)
# present_token's value: an unsigned token no server accepts (SPEC §3.1 step 1).
FORGED: Final = "eyJhbGciOiJub25lIn0.e30."


def _typed(value: str) -> object:
    """An integer quirk's example as the integer a scenario writes (`{drop_frames: 5}`)."""
    return int(value) if value.isdigit() else value


def scenario(catcher: Catcher, *, quirk_on: bool = True) -> m.Scenario:
    """The suite's scenario, with the catcher's quirk in its `device:` when `quirk_on`."""
    loaded = load_scenario(REPO / "scenarios" / catcher.scenario)
    if not quirk_on:
        return loaded
    spec = QUIRK_SPECS[catcher.quirk]
    value = spec.example if spec.example is not None else FORGED  # present_token: a forgery
    item: object = {catcher.quirk: _typed(value)} if spec.value else catcher.quirk
    return dataclasses.replace(loaded, device={**loaded.device, "quirks": [item]})
