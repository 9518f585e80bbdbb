"""Boards on a serial port: bench files, board locks, DTR/RTS resets, esptool flashing.

The `serial` target (`hil.targets.serial_target`) and the `teddy-hil boards` /
`teddy-hil flash` commands (`hil.serial.cli`) are built from these modules. Every one
works with any pyserial URL (`/dev/ttyUSB0`, `rfc2217://host:port`, `socket://host:port`,
`loop://`), so the whole path is tested without hardware.
"""
