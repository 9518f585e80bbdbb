"""teddy-server CLI: provision, publish and their one-line errors (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from protocol.image import build_app_image
from server.cli import main
from server.errors import ServerError
from server.settings import ServerSettings
from server.store import Store

pytestmark = pytest.mark.unit

GOOD = """
devices:
  - device_id: Lab-Board-0001
    oob_secret: seed
  - device_id: Lab-Board-0002
    oob_secret: "{secret}"
    enabled: false
children:
  - child_id: mia
    name: Mia
    age: 6
    consent: true
config:
  heartbeat_interval: 15
"""


def test_provision_writes_devices_children_and_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "bench.yaml"
    source.write_text(GOOD.format(secret="ab" * 32))
    assert main(["provision", str(source), "--data", str(tmp_path / "data")]) == 0
    assert "provisioned 2 devices, 1 children, 1 config values" in capsys.readouterr().out
    store = Store(tmp_path / "data" / "teddy.sqlite3")
    try:
        second = store.get_device("lab-board-0002")
        assert second is not None and not second.enabled and second.oob_secret == "AB" * 32
        assert store.get_child("MIA") is not None
        assert store.config_overrides() == {"heartbeat_interval": 15}
    finally:
        store.close()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("devices: [{device_id: x}]", "devices[0].device_id: 8-64 characters"),
        ("devices: [{device_id: Lab-Board-0001, oob_secret: zz}]", "devices[0].oob_secret"),
        ("children: [{child_id: mia, age: old}]", "children[0].age"),
        ("robots: []", "unknown keys ['robots']"),
        ("config: {colour: red}", "config"),
        ("devices: [", "cannot read provisioning YAML"),
    ],
)
def test_bad_provisioning_names_the_field_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    source = tmp_path / "bad.yaml"
    source.write_text(text)
    assert main(["provision", str(source), "--data", str(tmp_path / "data")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("teddy-server: error: ") and message in err
    assert err.count("\n") == 1
    assert not (tmp_path / "data" / "teddy.sqlite3").exists()


def test_publish_reads_version_and_chip_from_the_image(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = tmp_path / "teddy.bin"
    image.write_bytes(build_app_image(version="2.1.0", chip="esp32s3", secure_version=3))
    assert main(["publish", str(image), "--data", str(tmp_path), "--mandatory"]) == 0
    assert "published 2.1.0 for esp32s3 (secure_version 3" in capsys.readouterr().out
    store = Store(tmp_path / "teddy.sqlite3")
    try:
        (release,) = store.releases(chip="esp32s3")
        assert release.mandatory
    finally:
        store.close()


@pytest.mark.parametrize("content", [b"", b"\xe9" + bytes(100), b"not an image at all"])
def test_publish_refuses_broken_images(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes
) -> None:
    image = tmp_path / "broken.bin"
    image.write_bytes(content)
    assert main(["publish", str(image), "--data", str(tmp_path)]) == 2
    assert "not a valid ESP32 app image" in capsys.readouterr().err


def test_publish_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["publish", str(tmp_path / "nope.bin"), "--data", str(tmp_path)]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_serve_refuses_to_keep_child_audio_in_production(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    argv = ["serve", "--data", str(data), "--profile", "production", "--keep-utterance-audio"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "keep_utterance_audio" in err and "development profile only" in err
    assert not data.exists()  # refused before anything was created


def test_serve_speech_flags_set_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import server.app

    seen: list[object] = []

    def capture(settings: object, **_: object) -> object:
        seen.append(settings)
        raise ServerError("stop here")  # no real server in a unit test

    monkeypatch.setattr(server.app, "create_app", capture)
    argv = ["serve", "--data", str(tmp_path), "--utterance-max-s", "12.5"]
    argv += ["--utterance-silence-s", "2", "--speech-memory-mb", "240", "--speech-queue", "3"]
    assert main(argv) == 2
    settings = seen[0]
    assert isinstance(settings, ServerSettings)
    assert (settings.utterance_max_s, settings.utterance_silence_s) == (12.5, 2.0)
    assert (settings.speech_memory_mb, settings.speech_queue, settings.speech_wait_s) == (
        240,
        3,
        5.0,
    )


def test_serve_refuses_a_zero_utterance_limit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--data", str(tmp_path), "--utterance-silence-s", "0"]) == 2
    assert "must be positive" in capsys.readouterr().err
