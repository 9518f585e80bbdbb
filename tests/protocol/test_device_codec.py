"""protocol.device_codec: the canonical JSON of device inputs and effects (trace vectors)."""

from __future__ import annotations

from typing import Any

import pytest

from protocol.device_codec import effect_from_json, input_from_json, to_json
from protocol.device_io import HttpRequest, HttpResponse, NvsSet, Reboot, SlotData
from protocol.device_model import EFFECT_KINDS, INPUT_KINDS, MODEL_SHA256
from protocol.errors import DeviceCodecError
from protocol.vectors import load_vectors, vector_cases

pytestmark = pytest.mark.unit

CASES = vector_cases("device_io")


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_every_kind_reads_and_writes_its_canonical_form(case: dict[str, Any]) -> None:
    read = input_from_json if case["direction"] == "input" else effect_from_json
    assert to_json(read(case["json"])) == case["canonical"]


def test_the_vectors_cover_every_kind_of_this_model() -> None:
    assert load_vectors("device_io")["model_sha256"] == MODEL_SHA256
    seen = {(c["direction"], c["json"]["kind"]) for c in CASES}
    assert seen == {("input", k) for k in INPUT_KINDS} | {("effect", k) for k in EFFECT_KINDS}


def test_the_forms_of_the_field_types() -> None:
    response = HttpResponse(7, 200, {"etag": '"x"'}, b"\x00\xff")
    assert to_json(response) == {
        "kind": "http_response",
        "req_id": 7,
        "status": 200,
        "headers": {"etag": '"x"'},
        "body": "AP8=",
    }
    request = HttpRequest(8, "GET", "http://h/", (("Range", "bytes=5-"),))
    assert to_json(request)["headers"] == [["Range", "bytes=5-"]]
    assert to_json(request)["body"] is None and to_json(request)["stream"] is False
    assert to_json(SlotData("ota_1", 4096, b"")) == {
        "kind": "slot_data",
        "slot": "ota_1",
        "offset": 4096,
        "data": "",
    }
    assert effect_from_json({"kind": "reboot", "reason": "panic"}) == Reboot("panic")
    nvs = {"kind": "nvs_set", "namespace": "settings", "key": "child_age", "value": -3}
    assert effect_from_json(nvs) == NvsSet("settings", "child_age", -3)


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ({"kind": "wifi_sideways"}, "unknown kind 'wifi_sideways'"),
        ({"kind": "console_line"}, "missing field text"),
        ({"kind": "console_line", "text": "x", "extra": 1}, "unknown field"),
        ({"kind": "timer_fired", "name": "coffee", "at_ms": 1}, "expected one of claim_retry"),
        ({"kind": "time_synced", "epoch": True}, "time_synced.epoch: expected int"),
        ({"kind": "capture_chunk", "capture_id": 1, "pcm": "@@"}, "not standard base64"),
        ({"kind": "http_response", "req_id": 1, "status": 200, "headers": {"a": 1}}, "headers"),
    ],
)
def test_malformed_inputs_are_refused(obj: dict[str, object], message: str) -> None:
    with pytest.raises(DeviceCodecError, match=message):
        input_from_json(obj)


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ({"kind": "nvs_set", "namespace": "auth", "key": "nope", "value": 1}, "not an NVS key"),
        ({"kind": "nvs_set", "namespace": "settings", "key": "volume", "value": "x"}, "u32"),
        ({"kind": "nvs_set", "namespace": "sys", "key": "boot_count", "value": -1}, "u32"),
        ({"kind": "reboot", "reason": "tired"}, "expected one of poweron"),
        ({"kind": "slot_erase", "slot": "ota_9"}, "expected one of ota_0, ota_1"),
        ({"kind": "ota_mark_invalid", "slot": "ota_1", "reason": "sulking"}, "not_confirmed"),
    ],
)
def test_malformed_effects_are_refused(obj: dict[str, object], message: str) -> None:
    with pytest.raises(DeviceCodecError, match=message):
        effect_from_json(obj)
