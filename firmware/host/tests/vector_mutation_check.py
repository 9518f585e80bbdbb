"""Vector mutation check for the C tests (issue 4: a changed vector value fails a C test).

Changes one leaf value of one vector file at a time (in a temporary copy), runs the
cmocka binaries that read that file with TEDDY_VECTORS_DIR pointing at the copy, and
reports mutations no C test noticed. A mutated *input* may legitimately survive (the
outcome does not change, so the Python tests pass too); a surviving mutation of an
*expected* value is a gap and makes this script exit 1.

usage: .venv/bin/python firmware/host/tests/vector_mutation_check.py [-v] [BUILD_TESTS_DIR]
       (default build/host/tests; build first: cmake --build build/host)
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
VECTORS = REPO / "protocol" / "vectors"
# Which cmocka binary reads which vector file (etag/if_none_match are server-only).
USERS: dict[str, tuple[str, ...]] = {
    "oob.json": ("test_crypto",),
    "claim_hmac.json": ("test_crypto",),
    "claim_requests.json": ("test_claim",),
    "claim_responses.json": ("test_claim",),
    "messages_valid.json": ("test_msg",),
    "messages_invalid.json": ("test_msg",),
    "audio_frames.json": ("test_audio",),
    "semver.json": ("test_semver",),
    "manifests.json": ("test_manifest",),
    "images.json": ("test_image",),
    "eventlines.json": ("test_event",),
    "console.json": ("test_console",),
}
METADATA_KEYS = {"description", "spec_section", "source", "id"}
EXPECTATION_KEYS = {
    "expect",
    "oob_secret",
    "error_code",
    "field",
    "type",
    "fields",
    "canonical",
    "catalogue",
}

JsonPath = tuple[str | int, ...]


def leaves(obj: object, path: JsonPath = ()) -> Iterator[tuple[JsonPath, object]]:
    """Every scalar in `obj` with its path, metadata keys skipped."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key not in METADATA_KEYS:
                yield from leaves(value, (*path, key))
    elif isinstance(obj, list):
        for index, value in enumerate(obj):
            yield from leaves(value, (*path, index))
    else:
        yield path, obj


def mutated(value: object) -> object:
    """A different value of (mostly) the same type."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value + 1.5
    if isinstance(value, str) and value:
        return value[:-1] + ("y" if value.endswith("x") else "x")
    return "x"


def run_one(job: tuple[str, JsonPath], binaries: Path, scratch: Path) -> bool:
    """True when some C test fails on the mutated copy."""
    name, path = job
    workdir = Path(tempfile.mkdtemp(dir=scratch))
    try:
        for item in VECTORS.iterdir():
            shutil.copy(item, workdir)
        data = json.loads((VECTORS / name).read_text(encoding="utf-8"))
        node = data
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = mutated(node[path[-1]])
        (workdir / name).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        env = dict(os.environ, TEDDY_VECTORS_DIR=str(workdir))
        return any(
            subprocess.run([binaries / test], env=env, capture_output=True, check=False).returncode
            for test in USERS[name]
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str]) -> int:
    verbose = "-v" in argv
    args = [a for a in argv if a != "-v"]
    binaries = Path(args[0]) if args else REPO / "build" / "host" / "tests"
    jobs: list[tuple[str, JsonPath]] = []
    for name in USERS:
        data = json.loads((VECTORS / name).read_text(encoding="utf-8"))
        jobs += [(name, path) for path, _ in leaves(data)]
    scratch = Path(tempfile.mkdtemp(prefix="teddy-mutation-"))
    try:
        with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 2) as pool:
            caught = list(pool.map(lambda job: run_one(job, binaries, scratch), jobs))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    survivors = [job for job, hit in zip(jobs, caught, strict=True) if not hit]
    gaps = [
        job for job in survivors if EXPECTATION_KEYS & {p for p in job[1] if isinstance(p, str)}
    ]
    print(
        f"{len(jobs)} mutations, {len(jobs) - len(survivors)} caught, {len(survivors)} survived "
        f"(inputs whose outcome did not change), {len(gaps)} expected values survived"
    )
    for name, path in survivors if verbose else gaps:
        print("SURVIVED", name, "/".join(map(str, path)))
    return 1 if gaps else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
