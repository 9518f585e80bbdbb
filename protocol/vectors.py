"""Access to the golden test vectors shipped in `protocol/vectors/*.json`.

Owns SPEC §10: each file is a plain JSON object {"description", "spec_section",
"cases": [{"id": ..., ...}]} with bytes as hex strings and no comments, so the
firmware's C tests (cJSON) read the very same files as the Python tests.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any, Final

from protocol.errors import ProtocolError

_NAME_RE: Final = re.compile(r"[a-z0-9_]+")


def _vectors_dir() -> Any:
    return resources.files("protocol").joinpath("vectors")


def vector_names() -> list[str]:
    """Names of every shipped vector file (without `.json`), sorted."""
    return sorted(
        entry.name.removesuffix(".json")
        for entry in _vectors_dir().iterdir()
        if entry.name.endswith(".json")
    )


def load_vectors(name: str) -> dict[str, object]:
    """Load `protocol/vectors/<name>.json`; raises ProtocolError if missing or malformed."""
    if not _NAME_RE.fullmatch(name):
        raise ProtocolError(f"bad vector file name {name!r}")
    resource = _vectors_dir().joinpath(f"{name}.json")
    if not resource.is_file():
        raise ProtocolError(f"no vector file {name!r}; have: {', '.join(vector_names())}")
    data = json.loads(resource.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        raise ProtocolError(f"vector file {name!r} has no 'cases' list")
    return data


def vector_cases(name: str) -> list[dict[str, Any]]:
    """The `cases` of a vector file; every case is an object with a unique string `id`."""
    cases = load_vectors(name)["cases"]
    assert isinstance(cases, list)
    seen: set[str] = set()
    for case in cases:
        if not isinstance(case, dict) or not isinstance(case.get("id"), str):
            raise ProtocolError(f"{name}: every case needs a string 'id'")
        if case["id"] in seen:
            raise ProtocolError(f"{name}: duplicate case id {case['id']!r}")
        seen.add(case["id"])
    return cases
