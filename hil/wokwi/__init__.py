"""Wokwi-simulated boards: the wokwi-client adapter and a local Wokwi-protocol server.

- `hil.wokwi.project`: which ESP-IDF build files to upload (`flasher_args.json`, or a
  firmware `.bin` + ELF), and, on the server side, where the app image is in what was
  uploaded (partition table -> first app slot, else 0x10000, else the image itself).
- `hil.wokwi.session`: `WokwiSession`, the one place that drives `wokwi_client`
  (upload, start paused, serial monitor without losing the first bytes, serial write,
  `set_control`, simulated-time deadlines).
- `hil.wokwi.server` / `hil.wokwi.simboard` / `hil.wokwi.cli`: `teddy-hil wokwi-server`,
  the same WebSocket protocol as Wokwi's API as wokwi-client speaks it, "simulating" the
  board with the Python emulator, for offline CI and machines that cannot reach wokwi.com.
"""
