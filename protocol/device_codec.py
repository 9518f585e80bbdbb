"""The canonical JSON form of device inputs and effects (trace vectors, test drivers).

Owns the mapping between `protocol.device_io` objects and plain JSON objects:
`{"kind": "<kind>", <field>: <value>, ...}` with every field in the model's order and
values as `protocol.device_model.IO_JSON_FORMS` says (bytes in standard base64, request
headers as `[[name, value], ...]`, response headers as an object). `to_json` always
writes every field; the readers accept a missing field that has a default. The C core
has the same form in teddy_canon.h, so both cores replay the same vectors.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
from collections.abc import Mapping
from typing import Final, TypeVar

from protocol.device_io import EFFECT_CLASSES, INPUT_CLASSES, Effect, Input
from protocol.device_model import (
    CAPTURE_KINDS,
    EFFECT_FIELDS,
    INPUT_FIELDS,
    NVS_KEYS,
    RESET_REASONS,
    ROLLBACK_REASONS,
    SLOTS,
    TIMERS,
    IoFieldSpec,
    IoType,
)
from protocol.errors import DeviceCodecError

_T = TypeVar("_T")
# Input and effect kinds never share a name (protocol.codegen checks), so one table.
_FIELDS: Final[dict[str, tuple[IoFieldSpec, ...]]] = {
    **{k: v for k, v in INPUT_FIELDS.items()},
    **{k: v for k, v in EFFECT_FIELDS.items()},
}
_INPUTS: Final[dict[str, type[Input]]] = {k: v for k, v in INPUT_CLASSES.items()}
_EFFECTS: Final[dict[str, type[Effect]]] = {k: v for k, v in EFFECT_CLASSES.items()}
# Field types whose values are names from a closed list of the model.
_CLOSED: Final[dict[IoType, tuple[str, ...]]] = {
    "timer": TIMERS,
    "slot": SLOTS,
    "capture_kind": CAPTURE_KINDS,
    "reset_reason": RESET_REASONS,
    "rollback_reason": ROLLBACK_REASONS,
}


def _encode(value: object, kind: IoType) -> object:
    if kind == "bytes":
        assert isinstance(value, bytes)
        return base64.b64encode(value).decode("ascii")
    if kind == "headers":
        assert isinstance(value, tuple)
        return [[name, val] for name, val in value]
    if kind == "header_map":
        assert isinstance(value, dict)
        return dict(value)
    return value


def to_json(item: Input | Effect) -> dict[str, object]:
    """The canonical JSON object of an input or an effect."""
    out: dict[str, object] = {"kind": item.KIND}
    for spec in _FIELDS[item.KIND]:
        out[spec.name] = _encode(getattr(item, spec.name), spec.type)
    return out


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _decode(value: object, kind: IoType, where: str) -> object:
    """The Python value of a JSON field; DeviceCodecError names what is wrong."""
    if kind == "int" and _is_int(value):
        return value
    names = ("str", "timer", "slot", "capture_kind", "reset_reason", "rollback_reason")
    if kind in names and isinstance(value, str) and value in _CLOSED.get(kind, (value,)):
        return value
    if kind == "bool" and isinstance(value, bool):
        return value
    if kind == "optional_str" and (value is None or isinstance(value, str)):
        return value
    if kind == "nvs_value" and (isinstance(value, str) or _is_int(value)):
        return value
    if kind == "bytes" and isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise DeviceCodecError(f"{where}: not standard base64") from None
    if kind == "headers" and isinstance(value, list):
        pairs = [tuple(p) for p in value if isinstance(p, list) and len(p) == 2]
        if len(pairs) == len(value) and all(isinstance(x, str) for p in pairs for x in p):
            return tuple(pairs)
    strings = isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    )
    if kind == "header_map" and strings:
        assert isinstance(value, dict)
        return dict(value)
    expected = f"one of {', '.join(_CLOSED[kind])}" if kind in _CLOSED else kind
    raise DeviceCodecError(f"{where}: expected {expected}, got {value!r}")


def _from_json(obj: Mapping[str, object], what: str, classes: dict[str, type[_T]]) -> _T:
    kind = obj.get("kind")
    if not isinstance(kind, str) or kind not in classes:
        raise DeviceCodecError(f"{what}: unknown kind {kind!r}; known: {', '.join(classes)}")
    specs = _FIELDS[kind]
    extra = sorted(set(obj) - {s.name for s in specs} - {"kind"})
    if extra:
        raise DeviceCodecError(f"{what} {kind}: unknown field(s) {', '.join(extra)}")
    values: dict[str, object] = {}
    for spec in specs:
        if spec.name in obj:
            values[spec.name] = _decode(obj[spec.name], spec.type, f"{what} {kind}.{spec.name}")
        elif not spec.has_default:
            raise DeviceCodecError(f"{what} {kind}: missing field {spec.name}")
    if kind == "nvs_set":
        _check_nvs(values)
    cls = classes[kind]
    # The generated dataclass has exactly the model's fields (protocol.codegen.gen_py_io).
    assert [f.name for f in dataclasses.fields(cls)] == [s.name for s in specs]  # type: ignore[arg-type]
    return cls(**values)


_NVS_RANGES: Final = {"u32": (0, 2**32 - 1), "i32": (-(2**31), 2**31 - 1)}


def _check_nvs(values: Mapping[str, object]) -> None:
    """An nvs_set names a key of the model and carries a value of that key's type."""
    ns, key, value = values.get("namespace"), values.get("key"), values.get("value")
    found = [k for k in NVS_KEYS if k.namespace == ns and k.key == key]
    if not found:
        raise DeviceCodecError(f"effect nvs_set: {ns}/{key} is not an NVS key of the model")
    typ = found[0].type
    if typ == "str":
        ok = isinstance(value, str)
    else:
        low, high = _NVS_RANGES[typ]
        ok = _is_int(value) and low <= value <= high  # type: ignore[operator]
    if not ok:
        raise DeviceCodecError(f"effect nvs_set: {ns}/{key} holds a {typ}, got {value!r}")


def input_from_json(obj: Mapping[str, object]) -> Input:
    """An input from its canonical JSON object; DeviceCodecError says what is wrong."""
    return _from_json(obj, "input", _INPUTS)


def effect_from_json(obj: Mapping[str, object]) -> Effect:
    """An effect from its canonical JSON object; DeviceCodecError says what is wrong."""
    return _from_json(obj, "effect", _EFFECTS)
