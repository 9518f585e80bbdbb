"""The emulated AI Teddy Bear board (see emulator/README.md).

`emulator.host.EmulatorHost` runs one board in-process; `emulator.core` is its sans-I/O
firmware; `emulator.cli` is the `teddy-emulator` command.
"""
