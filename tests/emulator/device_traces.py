"""Device trace vectors (protocol/vectors/device_traces/*.json) read for the Python core.

Owns the trace file format of SPEC §10 ("Device trace vectors") on the Python side:
`load_trace` reads and checks one file (setup, start, steps) into a `Trace`, refusing
anything malformed with a `TraceError` that names the file and the step; `build_device`
makes the `emulator.core.Device` the setup describes (build, timing with zero jitter,
boot facts, NVS as read, RNG seed, the claim nonces in order). Inputs and expected
effects are in the canonical JSON form of `protocol.device_codec`; expected `print`
effects must be valid SPEC §8 event lines (free text is not contract, so a trace never
lists it). Replaying is `tests.emulator.trace_replay`; the C twin is
firmware/host/tests/test_device_traces.c.
"""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Final

import protocol
from emulator.core.boot import Behaviour, BootInfo, BuildConfig, Rollback
from emulator.core.context import NvsData
from emulator.core.device import Device
from emulator.core.effects import NvsSet
from emulator.core.timing import DeviceTiming
from protocol.device_codec import effect_from_json, input_from_json, to_json
from protocol.device_io import Effect, Input
from protocol.device_model import RESET_REASONS, SLOTS, TIMING
from protocol.errors import DeviceCodecError, EventLineError, ProtocolError
from protocol.eventline import is_event_line, parse_event_line, validate_event

TRACES_DIR: Final = Path(protocol.__file__).parent / "vectors" / "device_traces"
# The cores draw jitter from different PRNGs (random.Random, xorshift32): a trace can
# only pin a delay when no jitter is applied to it.
JITTER_FIELDS: Final = ("claim_jitter", "reconnect_jitter")
NONCE_BYTES: Final = 16  # SPEC §2.3: 16 random bytes per claim

_TOP_KEYS: Final = {"description", "spec_sections", "setup", "start", "steps"}
_SETUP_KEYS: Final = {"build", "timing", "boot", "nvs", "rng_seed", "nonces"}
# The compiled-in settings (the model's `build: true` ones plus the server URL).
_BUILD_KEYS: Final = tuple(f.name for f in fields(BuildConfig))
_BOOT_KEYS: Final = (
    "fw_version",
    "slot",
    "reset_reason",
    "boot_count",
    "image_secure_version",
    "efuse_secure_version",
    "pending_verify",
    "rollback",
    "slot_size",
    "panic_after_ms",
)
_STEP_KEYS: Final = {"note", "now_ms", "input", "effects"}

JsonObj = Mapping[str, object]


class TraceError(Exception):
    """A trace file is malformed; the message names the file and the place."""


@dataclass(frozen=True)
class Step:
    """One input (None for the power-on `start`) and the effects it must produce."""

    where: str  # "start" or "steps[3]"
    now_ms: int
    input: Input | None
    effects: tuple[dict[str, object], ...]  # canonical JSON, free text never listed
    note: str = ""


@dataclass(frozen=True)
class Trace:
    path: Path
    description: str
    build: BuildConfig
    timing: DeviceTiming
    boot: BootInfo
    nvs: NvsData
    rng_seed: int
    nonces: tuple[bytes, ...]
    steps: tuple[Step, ...] = field(default_factory=tuple)

    @property
    def name(self) -> str:
        return self.path.name


def trace_paths() -> list[Path]:
    """Every committed trace file, sorted."""
    return sorted(TRACES_DIR.glob("*.json"))


def is_free_text(effect: JsonObj) -> bool:
    """A `print` effect that is not an SPEC §8 event line (not compared, SPEC §10)."""
    line = effect.get("line")
    return effect.get("kind") == "print" and not (isinstance(line, str) and is_event_line(line))


def compared(effects: list[Effect]) -> list[dict[str, object]]:
    """The canonical JSON of the effects a trace compares (event lines, never free text)."""
    return [obj for obj in map(to_json, effects) if not is_free_text(obj)]


# --- reading ------------------------------------------------------------------------------


class _Reader:
    """Typed access to one file's JSON with the place of every problem."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, problem: str) -> TraceError:
        return TraceError(f"{self.path.name}: {where}: {problem}")

    def obj(self, value: object, where: str, keys: set[str] | tuple[str, ...]) -> JsonObj:
        if not isinstance(value, dict):
            raise self.fail(where, f"expected an object, got {value!r}")
        unknown = sorted(set(value) - set(keys))
        if unknown:
            raise self.fail(where, f"unknown member(s) {', '.join(unknown)}")
        return value

    def get(self, obj: JsonObj, key: str, where: str) -> object:
        if key not in obj:
            raise self.fail(where, f"missing member {key!r}")
        return obj[key]

    def int_(self, obj: JsonObj, key: str, where: str) -> int:
        value = self.get(obj, key, where)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.fail(f"{where}.{key}", f"expected a non-negative integer, got {value!r}")
        return value

    def str_(self, obj: JsonObj, key: str, where: str, choices: tuple[str, ...] = ()) -> str:
        value = self.get(obj, key, where)
        if not isinstance(value, str) or (choices and value not in choices):
            want = f"one of {', '.join(choices)}" if choices else "a string"
            raise self.fail(f"{where}.{key}", f"expected {want}, got {value!r}")
        return value


def load_trace(path: Path) -> Trace:
    """Read and check one trace file; TraceError says what is wrong and where."""
    r = _Reader(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise TraceError(f"{path.name}: not a readable JSON file: {exc}") from None
    top = r.obj(raw, "file", _TOP_KEYS)
    trace = load_setup(r.get(top, "setup", "file"), path)
    spec = r.get(top, "spec_sections", "file")
    if not isinstance(spec, list) or not spec or not all(isinstance(s, str) for s in spec):
        raise r.fail("spec_sections", "expected a non-empty list of section numbers")
    return replace(trace, description=r.str_(top, "description", "file"), steps=_steps(r, top))


def load_setup(value: object, path: Path) -> Trace:
    """The setup of a trace (no steps yet): what `build_device` needs."""
    r = _Reader(path)
    setup = r.obj(value, "setup", _SETUP_KEYS)
    return Trace(
        path=path,
        description="",
        build=_build(r, r.obj(r.get(setup, "build", "setup"), "setup.build", _BUILD_KEYS)),
        timing=_timing(r, r.get(setup, "timing", "setup")),
        boot=_boot(r, r.obj(r.get(setup, "boot", "setup"), "setup.boot", _BOOT_KEYS)),
        nvs=_nvs(r, r.get(setup, "nvs", "setup")),
        rng_seed=r.int_(setup, "rng_seed", "setup"),
        nonces=_nonces(r, r.get(setup, "nonces", "setup")),
    )


def _build(r: _Reader, b: JsonObj) -> BuildConfig:
    where = "setup.build"
    oob = r.get(b, "oob_secret", where)
    if oob is not None and not isinstance(oob, str):
        raise r.fail(f"{where}.oob_secret", f"expected a string or null, got {oob!r}")
    age = r.get(b, "child_age", where)  # null: the claim's child_profile.age (SPEC §9.2)
    if age is not None and (isinstance(age, bool) or not isinstance(age, int)):
        raise r.fail(f"{where}.child_age", f"expected an integer or null, got {age!r}")
    name = r.get(b, "child_name", where)
    if name is not None and not isinstance(name, str):
        raise r.fail(f"{where}.child_name", f"expected a string or null, got {name!r}")
    return BuildConfig(
        server_url=r.str_(b, "server_url", where),
        device_id=r.str_(b, "device_id", where),
        chip=r.str_(b, "chip", where),
        oob_secret=oob,
        child_id=r.str_(b, "child_id", where),
        child_name=name,
        child_age=age,
        volume=r.int_(b, "volume", where),
    )


def _timing(r: _Reader, value: object) -> DeviceTiming:
    t = r.obj(value, "setup.timing", ("profile", "set"))
    profile = r.str_(t, "profile", "setup.timing", ("fast", "real"))
    timing = DeviceTiming() if profile == "fast" else DeviceTiming.realistic()
    kinds = {spec.name: spec.kind for spec in TIMING}
    changes = r.obj(r.get(t, "set", "setup.timing"), "setup.timing.set", tuple(kinds))
    for name, v in changes.items():
        if isinstance(v, bool) or not isinstance(v, int | float) or v < 0:
            raise r.fail(f"setup.timing.set.{name}", f"expected a number >= 0, got {v!r}")
        if kinds[name] != "ratio" and not isinstance(v, int):
            raise r.fail(f"setup.timing.set.{name}", f"expected an integer, got {v!r}")
    timing = replace(timing, **changes)  # type: ignore[arg-type]
    for name in JITTER_FIELDS:
        if getattr(timing, name) != 0:
            raise r.fail(
                "setup.timing",
                f"{name} must be 0 (set it in `set`): the two cores jitter with different PRNGs",
            )
    return timing


def _boot(r: _Reader, b: JsonObj) -> BootInfo:
    where = "setup.boot"
    rollback = r.get(b, "rollback", where)
    rb: Rollback | None = None
    if rollback is not None:
        ro = r.obj(rollback, f"{where}.rollback", ("from", "to", "reason"))
        rb = Rollback(
            r.str_(ro, "from", f"{where}.rollback"),
            r.str_(ro, "to", f"{where}.rollback"),
            r.str_(ro, "reason", f"{where}.rollback"),
        )
    pending = r.get(b, "pending_verify", where)
    if not isinstance(pending, bool):
        raise r.fail(f"{where}.pending_verify", f"expected true or false, got {pending!r}")
    panic = None if b.get("panic_after_ms", 0) is None else r.int_(b, "panic_after_ms", where)
    slot = r.str_(b, "slot", where, SLOTS)
    reset = r.str_(b, "reset_reason", where, RESET_REASONS)
    return BootInfo(
        fw_version=r.str_(b, "fw_version", where),
        slot=slot,  # type: ignore[arg-type]  # checked against SLOTS
        reset_reason=reset,  # type: ignore[arg-type]  # checked against RESET_REASONS
        boot_count=r.int_(b, "boot_count", where),
        image_secure_version=r.int_(b, "image_secure_version", where),
        efuse_secure_version=r.int_(b, "efuse_secure_version", where),
        pending_verify=pending,
        rollback=rb,
        behaviour=Behaviour(panic_after_ms=panic),
        slot_size=r.int_(b, "slot_size", where),
    )


def _nvs(r: _Reader, value: object) -> NvsData:
    """NVS as read: a list of nvs_set effects in canonical form (typed by the model)."""
    if not isinstance(value, list):
        raise r.fail("setup.nvs", "expected a list of nvs_set objects")
    nvs: NvsData = {}
    for i, item in enumerate(value):
        effect = _effect(r, item, f"setup.nvs[{i}]")
        if not isinstance(effect, NvsSet):
            raise r.fail(f"setup.nvs[{i}]", f"expected kind nvs_set, got {effect.KIND}")
        nvs.setdefault(effect.namespace, {})[effect.key] = effect.value
    return nvs


def _nonces(r: _Reader, value: object) -> tuple[bytes, ...]:
    if not isinstance(value, list):
        raise r.fail("setup.nonces", "expected a list of base64 strings")
    out: list[bytes] = []
    for i, item in enumerate(value):
        try:
            data = _b64(item)
        except (TypeError, ValueError):
            raise r.fail(f"setup.nonces[{i}]", f"expected standard base64, got {item!r}") from None
        if len(data) != NONCE_BYTES:
            raise r.fail(f"setup.nonces[{i}]", f"a nonce is {NONCE_BYTES} bytes, got {len(data)}")
        out.append(data)
    return tuple(out)


def _b64(value: object) -> bytes:
    if not isinstance(value, str):
        raise TypeError(value)
    return base64.b64decode(value, validate=True)


def _effect(r: _Reader, value: object, where: str) -> Effect:
    if not isinstance(value, dict):
        raise r.fail(where, f"expected an effect object, got {value!r}")
    try:
        return effect_from_json(value)
    except (DeviceCodecError, TypeError) as exc:
        raise r.fail(where, str(exc)) from None


def _expected(r: _Reader, value: object, where: str) -> tuple[dict[str, object], ...]:
    if not isinstance(value, list):
        raise r.fail(where, "expected a list of effects")
    out: list[dict[str, object]] = []
    for i, item in enumerate(value):
        canonical = to_json(_effect(r, item, f"{where}[{i}]"))
        line = canonical.get("line")
        if canonical["kind"] == "print":
            _check_event_line(r, line, f"{where}[{i}]")
        out.append(canonical)
    return tuple(out)


def _check_event_line(r: _Reader, line: object, where: str) -> None:
    """An expected print is an SPEC §8 event line of the catalogue (free text never is)."""
    assert isinstance(line, str)
    try:
        event = parse_event_line(line)
        if event is None:
            raise r.fail(where, f"free text is not compared (SPEC §10); drop it: {line!r}")
        validate_event(event)
    except (EventLineError, ProtocolError) as exc:
        raise r.fail(where, f"not a valid SPEC §8 event line: {exc}") from None


def _steps(r: _Reader, top: JsonObj) -> tuple[Step, ...]:
    start = r.obj(r.get(top, "start", "file"), "start", ("note", "now_ms", "effects"))
    out = [
        Step(
            "start",
            r.int_(start, "now_ms", "start"),
            None,
            _expected(r, r.get(start, "effects", "start"), "start.effects"),
        )
    ]
    raw = r.get(top, "steps", "file")
    if not isinstance(raw, list) or not raw:
        raise r.fail("steps", "expected a non-empty list of steps")
    for i, item in enumerate(raw):
        where = f"steps[{i}]"
        step = r.obj(item, where, _STEP_KEYS)
        now_ms = r.int_(step, "now_ms", where)
        if now_ms < out[-1].now_ms:
            raise r.fail(where, f"now_ms {now_ms} < {out[-1].now_ms}: uptime never goes back")
        if any(e["kind"] == "reboot" for e in out[-1].effects):
            raise r.fail(where, f"{out[-1].where} rebooted the device: a trace is one boot")
        value = r.get(step, "input", where)
        if not isinstance(value, dict):
            raise r.fail(f"{where}.input", f"expected an input object, got {value!r}")
        try:
            event = input_from_json(value)
        except DeviceCodecError as exc:
            raise r.fail(f"{where}.input", str(exc)) from None
        note = step.get("note", "")
        out.append(
            Step(
                where,
                now_ms,
                event,
                _expected(r, r.get(step, "effects", where), f"{where}.effects"),
                note if isinstance(note, str) else "",
            )
        )
    return tuple(out)


# --- the core a setup describes -----------------------------------------------------------


def nonce_source(trace: Trace) -> Callable[[], bytes]:
    """Hands out the trace's nonces in order; running out is a trace error."""
    queue = list(trace.nonces)

    def next_nonce() -> bytes:
        if not queue:
            raise TraceError(
                f"{trace.name}: the core asked for claim nonce {len(trace.nonces) + 1}; "
                f"setup.nonces has {len(trace.nonces)}"
            )
        return queue.pop(0)

    return next_nonce


def build_device(trace: Trace) -> Device:
    return Device(
        boot=trace.boot,
        build=trace.build,
        nvs=trace.nvs,
        timing=trace.timing,
        rng=random.Random(trace.rng_seed),
        nonce_source=nonce_source(trace),
    )
