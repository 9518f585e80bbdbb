"""Differential check: the C core's parsers against protocol/ (the Python reference).

Mutates the inputs of the golden vectors at random (insert/delete/replace of
characters that matter to each grammar), feeds every input to both the C parsers
(through build/host/tests/teddy_diff_driver) and the Python ones, and reports every
input on which their verdicts differ: WebSocket frames in both directions (error code
and field, SPEC §6.3/§6.4, incl. ISO 8601 timestamps), console lines (reason or
canonical form, SPEC §9), SemVer strings (SPEC §5.4), event lines (SPEC §8),
manifests (every field error, SPEC §5.1) and HTTP error bodies (the code and message
an event reports, SPEC §8.2).

usage: .venv/bin/python firmware/host/tests/differential_check.py [SEED] [PER_KIND] [DRIVER]
       exits 1 on any mismatch.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO))

from protocol._fields import strict_loads  # noqa: E402
from protocol.console import format_command, parse_command  # noqa: E402
from protocol.errors import (  # noqa: E402
    CommandError,
    EventLineError,
    MessageError,
    ValidationError,
)
from protocol.eventline import parse_event_line  # noqa: E402
from protocol.manifest import FirmwareManifest  # noqa: E402
from protocol.messages import parse_device_message, parse_server_message  # noqa: E402
from protocol.semver import is_valid_version  # noqa: E402
from protocol.server_answer import server_error  # noqa: E402

VECTORS = REPO / "protocol" / "vectors"
ALPHABET = [*'{}[]":,0123456789.-+eE abcxyz\\/tn\t\'"#vWZT', "\u00a0", "ü", "🐻", "\u2028"]
ALPHABET += ["null", "true", "1.0", '"type"', '"seq"', "2025-01-01T00:00:00", "+00:00", "Z"]


def cases(name: str) -> list[dict[str, object]]:
    data = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    result: list[dict[str, object]] = data["cases"]
    return result


def strings(name: str, *keys: str) -> list[str]:
    return [str(c[k]) for c in cases(name) for k in keys if isinstance(c.get(k), str)]


def seeds() -> dict[str, list[str]]:
    frames = strings("messages_valid.json", "text") + strings("messages_invalid.json", "text")
    stamps = ["2025-01-01T00:00:00+00:00", "20250101T000000Z", "2025-W01-1T00.5", "2026-W53"]
    frames += [
        json.dumps({"type": "error", "error_code": "x", "error_message": "m", "timestamp": t})
        for t in stamps
    ]
    return {
        "server": frames,
        "device": frames,
        "console": strings("console.json", "line"),
        "semver": strings("semver.json", "input", "a", "b"),
        "event": strings("eventlines.json", "line"),
        "manifest": [json.dumps(c["manifest"]) for c in cases("manifests.json")],
        "answer": [
            text
            for c in cases("server_answers.json")
            if c["kind"] == "error" and (text := _utf8(str(c["body"]))) is not None
        ],
    }


def _utf8(hex_body: str) -> str | None:
    """A vector body as text, None when it is not UTF-8 or holds NUL (C strings end)."""
    try:
        text = bytes.fromhex(hex_body).decode("utf-8")
    except UnicodeDecodeError:
        return None
    return None if "\x00" in text else text


def mutate(rnd: random.Random, text: str) -> str:
    chars = list(text)
    for _ in range(rnd.randint(1, 4)):
        i = rnd.randint(0, len(chars))
        op = rnd.random()
        if op < 0.4 and chars:
            del chars[min(i, len(chars) - 1)]
        elif op < 0.8:
            chars.insert(i, rnd.choice(ALPHABET))
        elif chars:
            chars[min(i, len(chars) - 1)] = rnd.choice(ALPHABET)
    return "".join(chars)


def _manifest(text: str) -> str:
    try:
        obj = strict_loads(text)
    except ValueError:
        return "json"
    FirmwareManifest.from_json(obj)
    return "ok"


def _console(text: str) -> str:
    canonical = format_command(parse_command(text))
    return "ok " + json.dumps(canonical, ensure_ascii=False, separators=(",", ":"))


def _answer(text: str) -> str:
    got = server_error(400, text.encode("utf-8"))
    return json.dumps([got.code, got.message], ensure_ascii=False, separators=(",", ":"))


def _ok(parse: Callable[[str], object]) -> Callable[[str], str]:
    return lambda text: (parse(text), "ok")[1]


PYTHON: dict[str, Callable[[str], str]] = {
    "server": _ok(parse_server_message),
    "device": _ok(parse_device_message),
    "console": _console,
    "semver": lambda text: str(int(is_valid_version(text))),
    "event": lambda text: "none" if parse_event_line(text) is None else "ok",
    "manifest": _manifest,
    "answer": _answer,
}


def python_verdict(kind: str, text: str) -> str:
    try:
        return PYTHON[kind](text)
    except MessageError as exc:
        return f"{exc.code} {exc.field or ''}"
    except CommandError as exc:
        return exc.reason
    except EventLineError:
        return "error"
    except ValidationError as exc:
        return "".join(f"{e.field}:{e.reason}," for e in exc.errors)


def main(argv: list[str]) -> int:
    seed = int(argv[0]) if argv else int(datetime.now().timestamp())
    per_kind = int(argv[1]) if len(argv) > 1 else 3000
    driver = (
        Path(argv[2]) if len(argv) > 2 else REPO / "build" / "host" / "tests" / "teddy_diff_driver"
    )
    rnd = random.Random(seed)
    inputs = [
        (kind, mutate(rnd, rnd.choice(pool)))
        for kind, pool in seeds().items()
        for _ in range(per_kind)
    ]
    inputs = [(k, s) for k, s in inputs if not any("\ud800" <= ch <= "\udfff" for ch in s)]
    feed = "".join(f"{kind}\t{json.dumps(text)}\n" for kind, text in inputs)
    proc = subprocess.run([str(driver)], input=feed, capture_output=True, text=True, check=True)
    verdicts = proc.stdout.split("\n")[:-1]  # not splitlines(): U+2028 may be in a verdict
    if len(verdicts) != len(inputs):
        print(f"driver answered {len(verdicts)} of {len(inputs)} inputs", file=sys.stderr)
        return 1
    mismatches = 0
    for (kind, text), c_verdict in zip(inputs, verdicts, strict=True):
        py = python_verdict(kind, text)
        if py.strip() != c_verdict.strip():
            mismatches += 1
            if mismatches <= 20:
                print(f"{kind} {text!r:.150} | python: {py:.80} | C: {c_verdict:.80}")
    print(f"seed {seed}: {len(inputs)} inputs, {mismatches} mismatches")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
