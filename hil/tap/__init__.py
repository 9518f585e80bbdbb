"""The wire tap: a loopback proxy between a target and its server that records the wire.

What it owns: forwarding every byte between the device and the server unchanged
(`relay`), decoding what it forwarded (`conversation`: HTTP/1.1 with h11 in `http`, then
WebSocket with wsproto in `websocket`), the record vocabulary and its one-line form
(`records`, `summary`, `recorder`), matching records (`pattern`), the audio that
crossed as WAV files per direction and `audio_session_id` (`wire_audio`: the log keeps only
each `audio_data` member's size and digest), the proxy itself (`tap.WireTap`,
`tap.ThreadedTap`) and its benchmark (`bench`). The runner starts one per scenario
(hil.runner.server_setup); records go to the scenario's `WireLog` (hil.streams,
wire.jsonl), audio to `wire-audio/` beside it.

Why this design. A terminating proxy (mitmproxy's addon API, or h11/wsproto driving both
ends) parses a request and writes a new one: it would reassemble WebSocket fragments
(mitmproxy forwards whole messages), renormalise header case and chunk sizes, and choose
its own moment to close, so the device and the server could tell it is there, and a tap
bug could fail a scenario. This tap is passive instead: the relay writes each chunk on
before anything looks at it (asyncio Protocols, flow control both ways, FIN as FIN and
reset as reset), and the decoders only observe. Framing is still never parsed by hand:
h11 frames HTTP (two state machines kept in step, one per direction) and wsproto frames
WebSocket (one `FrameProtocol` per direction, with its permessage-deflate when the
handshake agreed on it); both are sans-I/O like our own device core. mitmproxy was not
installed or measured: its message-level WebSocket forwarding alone rules it out.

Measured with `python -m hil.tap.bench` (50 streams, a ~5.6 KB chunk every 128 ms each,
echoed; 2-core machine shared with other jobs): a chunk is written on p50 0.02 ms / p99
0.28 ms after it arrived; decoding and recording follow at p50 0.14 ms / p99 0.42 ms per
batch; a round trip through the tap twice adds p50 0.22 ms / p99 1.8 ms. The same tap
on a thread of its own (`--thread`) added p99 ~30 ms (every chunk waits for the GIL),
so the runner runs it on its own event loop.
"""
