"""Offline speech synthesis shared by the reference server and the emulated toy.

Owns the espeak-ng wrapper (`voice.espeak`): the server speaks its replies with it and
the emulator's microphone uses it as a child speaking into the toy. Both sides may
import this package; it imports nothing of ours but `protocol` (the PCM format of
SPEC §7.1), so neither side has to import the other (docs/architecture.md, layers).
"""
