"""The SPEC §9.2 clip library: the names `talk <clip>` accepts and the phrase each one says.

One table for every side that speaks or judges a clip: the emulated microphone
synthesises the phrase (emulator.audio), the harness synthesises the same phrase as the
reference it compares the server's received audio with (hil.audio_truth). The C
firmware's host port keeps its own copy (linux_capture.c `CLIPS`), held to this one by
tests/emulator/test_clip_library.py.
"""

from __future__ import annotations

from typing import Final

CLIP_LIBRARY: Final[dict[str, str]] = {
    "hello": "hello teddy",
    "joke": "tell me a joke",
    "story": "tell me a story",
    "song": "sing me a song",
    "count": "count to five",
    "name": "what is your name",
    "sky": "why is the sky blue",
    "dinosaurs": "tell me about dinosaurs",
    "goodnight": "good night",
}
