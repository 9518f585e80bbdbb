"""The device model (protocol/device_model.yaml), its generator and its generated files."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from protocol import device_model as dm
from protocol.codegen import REPO_ROOT, main, outputs
from protocol.codegen.output import MODEL_PATH, stale
from protocol.codegen.parse import load_model
from protocol.device import is_crash, reset_reason
from protocol.errors import ModelError
from protocol.eventline import EVENT_CATALOGUE

pytestmark = pytest.mark.unit


def test_every_generated_file_is_what_the_model_gives() -> None:
    """A stale generated module (or C header) fails here: run `make model`."""
    bad = stale(outputs(REPO_ROOT), REPO_ROOT)
    assert not bad, f"stale generated files {bad}; run `make model`"


def _copy_repo_inputs(tmp_path: Path) -> Path:
    """The generator's inputs (model, constants) and outputs, copied to a scratch root."""
    for out in outputs(REPO_ROOT):
        target = tmp_path / out.path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO_ROOT / out.path, target)
    for source in (MODEL_PATH, "protocol/constants.py"):
        (tmp_path / source).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO_ROOT / source, tmp_path / source)
    return tmp_path


def test_check_names_each_stale_file_and_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _copy_repo_inputs(tmp_path)
    assert main(["--check", "--root", str(root)]) == 0
    model = root / MODEL_PATH
    model.write_text(model.read_text().replace("name: time_sync,", "name: time_syncing,"))
    assert main(["--check", "--root", str(root)]) == 1
    err = capsys.readouterr().err
    assert "protocol/device_model.py is stale" in err and "run `make model`" in err
    assert "firmware/components/teddy_model/include/teddy_model.h is stale" in err
    assert main(["--root", str(root)]) == 0  # regenerate ...
    assert main(["--check", "--root", str(root)]) == 0  # ... and it is fresh again
    assert '"time_syncing"' in (root / "protocol/device_model.py").read_text()


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    text = (REPO_ROOT / MODEL_PATH).read_text()
    assert old in text, old
    path = tmp_path / "device_model.yaml"
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("owner: claim, doc:", "owner: clam, doc:", "owner 'clam' is not one of"),
        ("{name: boot, meaning:", "{name: wifi, meaning:", "'wifi' is defined twice"),
        ("{key: hb_interval, type: u32", "{key: heartbeat_interval, type: u32", "longer than 15"),
        ("nvs: settings/volume", "nvs: settings/child_id", "is str, key is int"),
        ("values: slots, note:", "values: slotz, note:", "values 'slotz' is not one of"),
        ("{name: reason, type: reset_reason}", "{name: reason, type: reset}", "type 'reset'"),
        ("{name: source, type: capture_kind}", "{name: kind, type: capture_kind}", "`kind` names"),
        ("    default: 70\n", "    default: seventy\n", "is not of type int"),
    ],
)
def test_a_broken_model_is_refused_with_where_and_why(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    with pytest.raises(ModelError, match=message):
        load_model(_broken(tmp_path, old, new))


def test_the_generator_needs_no_generated_module() -> None:
    """protocol.codegen must run even when device_model.py is broken (bootstrap)."""
    code = (
        "import sys; sys.modules['protocol.device_model'] = None\n"
        "from protocol.codegen import outputs; print(len(outputs()))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) == len(outputs())


def test_vocabularies_and_tables() -> None:
    assert dm.STATES[0] == "boot" and "time_sync" in dm.STATES and len(dm.STATES) == 12
    assert set(dm.TIMER_OWNERS) == set(dm.TIMERS)
    assert set(dm.CRASH_REASONS) <= set(dm.RESET_REASONS)
    assert set(dm.CRASH_REASONS) <= set(dm.ROLLBACK_REASONS)
    assert list(EVENT_CATALOGUE) == list(dm.EVENT_NAMES)
    assert EVENT_CATALOGUE["cmd.error"] == ("cmd", "reason")  # message is optional
    assert all(len(k.key) <= 15 and len(k.namespace) <= 15 for k in dm.NVS_KEYS)
    assert {s.nvs for s in dm.SET_KEY_SPECS.values()} <= set(dm.NVS_KEYS)
    assert dm.DeviceTiming().claim_backoff_base_ms == 100
    assert dm.DeviceTiming.realistic().claim_backoff_base_ms == 1000
    fields = [t.name for t in dm.TIMING]
    assert fields == list(dm.DeviceTiming.__dataclass_fields__)


@pytest.mark.parametrize(
    ("given", "want"),
    [("power_on", "poweron"), ("poweron", "poweron"), ("task_wdt", "task_wdt"), ("sw", "sw")],
)
def test_reset_reason(given: str, want: str) -> None:
    assert reset_reason(given) == want


def test_reset_reason_unknown_and_crashes() -> None:
    assert reset_reason("cosmic_ray") == "unknown"
    assert is_crash("brownout") and not is_crash("sw")


def test_device_settings_schema_is_the_model_tables() -> None:
    """What hil.scenario.schema should take for `device:` (settings + timing)."""
    import jsonschema

    from protocol.device import device_settings_schema

    schema = device_settings_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert set(schema["properties"]) == {*(s.name for s in dm.SETTINGS), "timing", "quirks"}
    assert set(schema["properties"]["timing"]["properties"]) == {t.name for t in dm.TIMING}
    check = jsonschema.Draft202012Validator(schema)
    good = {
        "device_id": "Teddy-ESP32-0077",
        "child_age": 2,
        "oob_secret": None,
        "timing": {"heartbeat_interval_ms": None, "claim_jitter": 0.1},
    }
    assert not list(check.iter_errors(good))
    for bad in (
        {"volume": 101},
        {"device_id": "short"},
        {"pacing": "slow"},
        {"timing": {"coffee_ms": 1}},
        {"colour": "brown"},
    ):
        assert list(check.iter_errors(bad)), bad
