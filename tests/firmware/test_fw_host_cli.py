"""`teddy-fw-host` as a program: its flags, and its console on stdio and TCP (SPEC §8, §9).

No server is needed: the board boots, prints `boot`, fails to fetch its config from a
closed port (SPEC §4.3: never a reason to stop) and still answers console commands.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
from pathlib import Path

import pytest

from hil.pytest_plugin import OptionsFor
from hil.targets.firmware_host import FirmwareHostOptions
from protocol.device_model import HOST_OPTIONS, SETTINGS

pytestmark = pytest.mark.host_fw  # skipped with the reason when the binary is missing

EVENT = re.compile(r"^@teddy (\d+) ([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*) (\{.*\})$")
DEAD_SERVER = "http://127.0.0.1:9"  # discard port: nothing listens


@pytest.fixture
def binary_path(target_options: OptionsFor) -> Path:
    """The teddy-fw-host this pytest run was given (--fw-host / $TEDDY_FW_HOST)."""
    return target_options(FirmwareHostOptions).binary


def _events(text: str) -> list[tuple[str, dict[str, object]]]:
    out = []
    for line in text.splitlines():
        match = EVENT.match(line)
        if match:
            out.append((match.group(2), json.loads(match.group(3))))
    return out


def test_help_and_bad_flags(binary_path: Path) -> None:
    done = subprocess.run([str(binary_path), "--help"], capture_output=True, timeout=10)
    assert done.returncode == 0 and b"--server URL --flash DIR" in done.stdout
    done = subprocess.run([str(binary_path), "--flash", "x"], capture_output=True, timeout=10)
    assert done.returncode == 2 and b"--server and --flash are required" in done.stderr
    done = subprocess.run(
        [str(binary_path), "--server", DEAD_SERVER, "--flash", "x", "--timing", "slow"],
        capture_output=True,
        timeout=10,
    )
    assert done.returncode == 2


def test_flags_are_the_device_model_tables(binary_path: Path) -> None:
    """`--help` lists exactly the model's teddy-fw-host options, with their defaults."""
    done = subprocess.run([str(binary_path), "--help"], capture_output=True, timeout=10)
    text = done.stdout.decode()
    listed = set(re.findall(r"^  (--[a-z-]+) ", text, re.MULTILINE))
    wanted = [s for s in (*HOST_OPTIONS, *SETTINGS) if "fw_host" in s.hosts]
    assert listed == {s.flag for s in wanted}
    assert "(default Teddy-ESP32-0001)" in text and "(default realtime)" in text


@pytest.mark.parametrize(
    ("flag", "value"), [("--volume", "101"), ("--device-id", "short"), ("--pacing", "slow")]
)
def test_values_outside_the_model_limits_are_refused(
    flag: str, value: str, binary_path: Path
) -> None:
    args = [str(binary_path), "--server", DEAD_SERVER, "--flash", "x", flag, value]
    done = subprocess.run(args, capture_output=True, timeout=10)
    assert done.returncode == 2 and f"{flag} {value}".encode() in done.stderr


def test_stdio_console_boots_and_answers(tmp_path: Path, binary_path: Path) -> None:
    args = ["--server", DEAD_SERVER, "--flash", str(tmp_path / "flash"), "--timing", "fast"]
    args += ["--child-age", "9", "--firmware-version", "2.3.4"]
    commands = "status\nget child_age\nset volume 101\nbogus\nhelp\n"
    done = subprocess.run(
        [str(binary_path), *args], input=commands.encode(), capture_output=True, timeout=20
    )
    assert done.returncode == 0, done.stderr
    events = _events(done.stdout.decode())
    assert events[0] == (
        "boot",
        {
            "fw_version": "2.3.4",
            "slot": "ota_0",
            "reset_reason": "poweron",
            "device_id": "Teddy-ESP32-0001",
        },
    )
    # every line typed before the end of input gets its one reply (SPEC §9.3)
    replies = [data for name, data in events if name in ("cmd.ok", "cmd.error")]
    assert [r["cmd"] for r in replies] == ["status", "get", "set", "bogus", "help"]
    assert replies[1]["value"] == 9
    assert replies[2]["reason"] == "bad_value" and replies[3]["reason"] == "unknown_command"
    assert "factory-reset" in replies[4]["commands"]  # type: ignore[operator]
    # the factory image and the otadata of the host bootloader (emulator layout)
    otadata = json.loads((tmp_path / "flash" / "otadata.json").read_text())
    assert otadata["ota_0"]["state"] == "valid"


def test_config_failure_does_not_stop_the_boot(tmp_path: Path, binary_path: Path) -> None:
    args = ["--server", DEAD_SERVER, "--flash", str(tmp_path / "flash"), "--timing", "fast"]
    proc = subprocess.Popen(
        [str(binary_path), *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stdin is not None
    names: list[str] = []
    try:
        while "claim.fail" not in names:  # SPEC §4.3: config.fail, then on to the claim
            line = proc.stdout.readline().decode()
            assert line, names
            names += [name for name, _ in _events(line.rstrip("\n"))]
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)
    assert names.index("config.fail") < names.index("claim.fail")


def test_tcp_console(tmp_path: Path, binary_path: Path) -> None:
    proc = subprocess.Popen(
        [
            str(binary_path),
            "--server",
            DEAD_SERVER,
            "--flash",
            str(tmp_path / "flash"),
            "--timing",
            "fast",
            "--console",
            "tcp:0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline().decode()
        port = int(re.fullmatch(r"console: tcp 127\.0\.0\.1:(\d+)\n", banner).group(1))  # type: ignore[union-attr]
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"status\r\n")
            received = b""
            while b'"cmd":"status"' not in received:
                chunk = sock.recv(4096)
                assert chunk, received
                received += chunk
        names = [name for name, _ in _events(received.decode().replace("\r", ""))]
        assert names[0] == "boot" and "cmd.ok" in names
    finally:
        proc.terminate()
        proc.wait(timeout=10)
