"""Which serial ports are attached, and which bench entry each one is.

`serial.tools.list_ports` gives every port's device, USB location, serial number and
VID:PID. A bench entry matches by `port` (also through a /dev/serial/by-* symlink), by
`usb_location` (stable per hub socket), or by `serial_number`; a `mac` can only be read
from the chip itself, so matching by MAC needs a probe through esptool (`probe_mac`),
which resets the board into its ROM loader: `teddy-hil boards --probe` only.
A URL port (`socket://`, `rfc2217://`) is never listed; it matches its entry as given.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from serial.tools import list_ports

from hil.serial.bench import Bench, BoardEntry
from hil.serial.errors import PortError


@dataclass(frozen=True)
class PortInfo:
    device: str
    location: str | None = None
    serial_number: str | None = None
    vid_pid: str | None = None
    description: str = ""
    mac: str | None = None  # only after a probe

    def summary(self) -> str:
        parts = [self.device]
        for label, value in (
            ("usb", self.location),
            ("serial", self.serial_number),
            ("id", self.vid_pid),
            ("mac", self.mac),
        ):
            if value:
                parts.append(f"{label}={value}")
        if self.description and self.description != "n/a":
            parts.append(f'"{self.description}"')
        return " ".join(parts)


@dataclass(frozen=True)
class Match:
    port: PortInfo | None
    entry: BoardEntry | None
    how: str  # "port", "usb_location", "serial_number", "mac", "url" or "" (no match)


def attached_ports() -> list[PortInfo]:
    """Every serial port the OS lists (USB bridges, USB-Serial-JTAG, built-in UARTs)."""
    found = []
    for info in list_ports.comports():
        vid_pid = f"{info.vid:04x}:{info.pid:04x}" if info.vid is not None else None
        found.append(
            PortInfo(
                device=info.device,
                location=info.location,
                serial_number=info.serial_number,
                vid_pid=vid_pid,
                description=info.description or "",
            )
        )
    return sorted(found, key=lambda p: p.device)


def is_url(port: str) -> bool:
    return "://" in port


def _same_device(a: str, b: str) -> bool:
    if a == b:
        return True
    if is_url(a) or is_url(b):
        return False
    return os.path.realpath(a) == os.path.realpath(b)


def match_entry(entry: BoardEntry, port: PortInfo) -> str:
    """How `entry` matches `port` ("" when it does not)."""
    if entry.port and _same_device(entry.port, port.device):
        return "port"
    if entry.usb_location and port.location == entry.usb_location:
        return "usb_location"
    if entry.serial_number and port.serial_number == entry.serial_number:
        return "serial_number"
    if entry.mac and port.mac == entry.mac:
        return "mac"
    return ""


def match_bench(bench: Bench | None, ports: Sequence[PortInfo]) -> list[Match]:
    """Every port with the entry it matches, then bench entries that matched no port."""
    entries = bench.boards if bench else ()
    matches: list[Match] = []
    used: set[str] = set()
    for port in ports:
        hit = next(((e, how) for e in entries if (how := match_entry(e, port))), None)
        if hit is None:
            matches.append(Match(port, None, ""))
        else:
            used.add(hit[0].name)
            matches.append(Match(port, hit[0], hit[1]))
    for entry in entries:
        if entry.name in used:
            continue
        if entry.port and is_url(entry.port):
            matches.append(Match(PortInfo(device=entry.port), entry, "url"))
        else:
            matches.append(Match(None, entry, ""))
    return matches


def resolve_port(
    entry: BoardEntry,
    *,
    ports: Iterable[PortInfo] | None = None,
    probe: Callable[[str], str | None] | None = None,
) -> str:
    """The port (device or URL) of a bench entry; PortError says what to check."""
    if entry.port and (is_url(entry.port) or Path(entry.port).exists()):
        return entry.port
    listed = list(attached_ports() if ports is None else ports)
    for port in listed:
        if match_entry(entry, port):
            return port.device
    if entry.mac and probe is not None:
        for port in listed:
            if probe(port.device) == entry.mac:
                return port.device
    raise PortError(
        f"board {entry.describe()} is not attached: no listed port matches;"
        " check the cable and `teddy-hil boards`"
    )


def probe_mac(port: str, *, baud: int = 115200) -> str | None:
    """The chip's MAC through esptool (resets the board into its ROM loader), or None."""
    from esptool.cmds import detect_chip  # imported late: esptool is slow to import

    try:
        with contextlib.redirect_stdout(io.StringIO()):  # esptool prints to stdout
            esp = detect_chip(port, baud, "default-reset", connect_attempts=2)
    except Exception:
        return None
    try:
        mac = esp.read_mac()
        return ":".join(f"{b:02x}" for b in mac) if mac else None
    except Exception:
        return None
    finally:
        esp._port.close()
