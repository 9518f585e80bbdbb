"""A board's audio path from the bench (`audio:`) and from --serial-audio."""

from __future__ import annotations

from pathlib import Path

import pytest

from hil.serial.audio_wiring import AudioWiring, parse_audio_option
from hil.serial.bench import load_bench, parse_bench
from hil.serial.errors import BenchError
from hil.serial.options import SerialOptions
from hil.serial.selection import adhoc_entry
from hil.targets.audio_path import SpeakerFiles
from hil.targets.registry import choose

pytestmark = pytest.mark.unit


def test_a_bench_audio_path_adds_audio_capture(tmp_path: Path) -> None:
    bench = parse_bench(
        {
            "version": 1,
            "boards": [
                {"name": "deaf", "port": "/dev/ttyUSB0", "capabilities": ["audio_out"]},
                {
                    "name": "heard",
                    "port": "/dev/ttyUSB1",
                    "capabilities": ["audio_in", "audio_out"],
                    "audio": {"output": "sounddevice:USB Audio", "latency": "12ms"},
                },
                {"name": "virtual", "port": "socket://x:1", "audio": {"output": "files:/v"}},
            ],
        },
        path=tmp_path / "bench.yaml",
    )
    assert "audio_capture" not in bench.board("deaf").capabilities
    heard = bench.board("heard")
    assert "audio_capture" in heard.capabilities
    assert heard.audio == AudioWiring("sounddevice:USB Audio", None, 48000, 0.012, False)
    assert "audio_capture" in bench.board("virtual").capabilities


def test_bad_audio_entries_are_each_reported(tmp_path: Path) -> None:
    path = tmp_path / "bench.yaml"
    path.write_text(
        "version: 1\nboards:\n"
        "  - {name: a, port: /dev/ttyUSB0, audio: {output: speaker, rate: 7, colour: red}}\n"
        "  - {name: b, port: /dev/ttyUSB1, audio: {input: 'files:/x', latency: soon}}\n"
        "  - {name: c, port: /dev/ttyUSB2, audio: loud}\n"
    )
    with pytest.raises(BenchError) as info:
        load_bench(path)
    text = "\n".join(info.value.problems)
    assert "boards[0].audio.output: 'speaker' is not an audio endpoint; use files:DIR" in text
    assert "boards[0].audio.rate: 7 is not a sample rate 8000..192000" in text
    assert "boards[0].audio.colour: unknown key; valid: output, input, rate, latency" in text
    assert "boards[1].audio.input: 'files:/x' is not an audio endpoint; use sounddevice" in text
    assert "boards[1].audio.latency: 'soon' is not a duration" in text
    assert "boards[2].audio: must be a mapping" in text


async def test_a_port_given_board_hears_through_the_option(tmp_path: Path) -> None:
    options = SerialOptions(
        port="socket://127.0.0.1:1", audio=parse_audio_option(f"files:{tmp_path}")
    )
    entry = adhoc_entry("socket://127.0.0.1:1", options)
    path = await entry.audio.open_path()
    assert isinstance(path, SpeakerFiles) and path.folder == tmp_path
    wired = SerialOptions(
        port="socket://127.0.0.1:1", capabilities=frozenset(), audio=options.audio
    )
    assert "audio_capture" in choose("serial", wired).offered_capabilities()
    bare = SerialOptions(port="socket://127.0.0.1:1", capabilities=frozenset())
    assert "audio_capture" not in choose("serial", bare).offered_capabilities()


def test_the_option_says_what_it_takes() -> None:
    with pytest.raises(ValueError, match="'speaker' is not an audio endpoint"):
        parse_audio_option("speaker")
    wiring = parse_audio_option("sounddevice:card 2,latency=calibrate,rate=44100")
    assert wiring == AudioWiring("sounddevice:card 2", None, 44100, None, True)
