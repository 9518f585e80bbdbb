"""The real wokwi-client against `teddy-hil wokwi-server`: the protocol, message by message.

Proves the wiring the `wokwi` target relies on, offline: hello, file upload, sim start,
serial monitor events, serial write, control set (the diagram's button), pause /
`pauseAfter` with simulated time, the monitor workaround (and the loss it avoids), and
that the simulated board reaches `host.wokwi.internal` as Wokwi's private gateway does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from wokwi_client import WokwiClient

from hil.wokwi.project import find_build, load_diagram
from hil.wokwi.session import WokwiSession
from server.embedded import EmbeddedServer
from server.settings import ServerSettings
from server.state import build_state
from tests.hil_wokwi.conftest import DUMMY_TOKEN, REPO, LocalWokwi
from tests.server.helpers import scripted_pipeline

pytestmark = pytest.mark.emu
DIAGRAM = REPO / "firmware" / "diagram.json"
WAIT_S = 20.0


class Serial:
    """Serial bytes as they arrive, with a wait for a line containing a text."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.changed = asyncio.Event()

    def feed(self, data: bytes) -> None:
        self.data += data
        self.changed.set()

    def lines(self) -> list[str]:
        return self.data.decode("utf-8", errors="replace").splitlines()

    async def wait_line(self, found: Callable[[str], bool], *, after: int = 0) -> int:
        """The index of the first line from `after` on that satisfies `found`."""
        async with asyncio.timeout(WAIT_S):
            while True:
                for index, line in enumerate(self.lines()[after:], start=after):
                    if found(line):
                        return index
                self.changed.clear()
                await self.changed.wait()


def has(*parts: str) -> Callable[[str], bool]:
    return lambda line: all(part in line for part in parts)


@pytest.fixture
def reference_server(tmp_path: Path) -> Iterator[EmbeddedServer]:
    settings = ServerSettings(data_dir=tmp_path / "server")
    with EmbeddedServer(settings, state=build_state(settings, pipeline=scripted_pipeline())) as s:
        yield s


async def started(local: LocalWokwi, serial: Serial) -> WokwiSession:
    session = WokwiSession(DUMMY_TOKEN, url=local.url, on_serial=serial.feed)
    await session.connect()
    upload = await session.upload(find_build(local.app), DIAGRAM.read_text("utf-8"))
    await session.start(upload)
    return session


async def test_hello_upload_start_and_the_first_byte(local_wokwi: LocalWokwi) -> None:
    serial = Serial()
    session = await started(local_wokwi, serial)
    try:
        assert session.server_version == "1.0.0"  # from the hello message
        files = local_wokwi.server.simulations[0].files
        assert files["teddy.bin"] == local_wokwi.app.read_bytes()
        assert json.loads(files["diagram.json"]) == load_diagram(DIAGRAM)
        boot = await serial.wait_line(has("@teddy ", " boot ", '"fw_version":"1.0.0"'))
        # Nothing lost: the ROM banner is the very first output of the simulation.
        assert serial.lines()[0] == "ets Jul 29 2019 12:21:46"
        assert "App version:      1.0.0" in serial.lines()[boot - 1]
    finally:
        await session.close()


async def test_the_client_s_own_monitor_loses_the_start(local_wokwi: LocalWokwi) -> None:
    """What `WokwiSession.start` works around: start running, then `serial_monitor()`."""
    client = WokwiClient(DUMMY_TOKEN, local_wokwi.url)
    await client.connect()
    await client.upload_file("diagram.json", DIAGRAM)
    await client.upload_file("teddy.bin", local_wokwi.app)
    await client.start_simulation(firmware="teddy.bin")  # it has booted when this returns
    serial = Serial()
    client.serial_monitor(serial.feed)
    try:
        # Replies sent before the monitor subscribed are lost too: ask until one arrives.
        for _attempt in range(20):
            await client.serial_write(b"status\n")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1.0):
                    await serial.wait_line(has("cmd.ok", '"cmd":"status"'))
                    break
        assert any('"cmd":"status"' in line for line in serial.lines())
        assert not any("ets Jul 29" in line or " boot " in line for line in serial.lines())
    finally:
        await client.disconnect()


async def test_serial_write_and_the_button_through_control_set(
    local_wokwi: LocalWokwi, reference_server: EmbeddedServer
) -> None:
    serial = Serial()
    session = await started(local_wokwi, serial)
    try:
        await serial.wait_line(has(" boot "))
        port = reference_server.base_url.rsplit(":", 1)[1]
        await session.write(f"set server http://host.wokwi.internal:{port}\nreboot\n".encode())
        reboot = await serial.wait_line(has("cmd.ok", '"cmd":"reboot"'))
        # The gateway name resolves to this machine: claim and chat over host.wokwi.internal.
        await serial.wait_line(has(" ws.open ", "ws://host.wokwi.internal:"), after=reboot)
        idle = await serial.wait_line(has(" state ", '"to":"idle"'), after=reboot)
        await session.set_control("btn1", "pressed", 1)
        await serial.wait_line(has(" state ", '"to":"listening"'), after=idle)
        await session.set_control("btn1", "pressed", 0)
        await serial.wait_line(has(" audio.tx.end "), after=idle)
        # A GPIO edge is not a console command: no cmd.ok/cmd.error for it on the console.
        assert not [line for line in serial.lines() if '"cmd":"button"' in line]
    finally:
        await session.close()


async def test_simulated_time_pause_and_pause_after(local_wokwi: LocalWokwi) -> None:
    serial = Serial()
    session = await started(local_wokwi, serial)
    try:
        first = await session.pause()
        await asyncio.sleep(0.2)  # wall time passes, simulated time does not
        assert await session.pause() == first
        async with session.deadline(0.3) as expired:
            await asyncio.wait_for(asyncio.shield(expired), WAIT_S)
        after = await session.pause()
        assert 0.299e9 <= after - first < 1.3e9  # paused at the deadline, then resumed
    finally:
        await session.close()


@pytest.mark.filterwarnings("ignore:Background recv error:RuntimeWarning")
async def test_refusals_are_error_responses(local_wokwi: LocalWokwi) -> None:
    client = WokwiClient(DUMMY_TOKEN, local_wokwi.url)
    await client.connect()
    try:
        # wokwi-client 0.5 turns an error response into a dead transport (its receive task
        # raises, and disconnect re-raises it): WokwiSession checks what it can first.
        with pytest.raises(Exception, match=r"diagram\.json' was not uploaded"):
            await client.start_simulation(firmware="missing.bin")
    finally:
        with contextlib.suppress(Exception):
            await client.disconnect()
    bad = WokwiClient("", local_wokwi.url)
    with pytest.raises(Exception, match="401"):
        await bad.connect()
