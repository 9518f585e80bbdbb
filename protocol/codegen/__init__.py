"""Generates both device cores' vocabulary from protocol/device_model.yaml.

    python -m protocol.codegen           # write every generated file (`make model`)
    python -m protocol.codegen --check   # fail, naming each stale file (`make lint`)

Owns the list of generated files (see `outputs`): the Python vocabulary modules in
protocol/, the C headers and tables of components/teddy_model and teddy_core, and the
canonical-form vectors. Needs only the standard library, PyYAML and protocol/ itself.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Sequence
from pathlib import Path

from protocol.codegen import (
    gen_c_events,
    gen_c_model,
    gen_c_tables,
    gen_c_wire,
    gen_py_events,
    gen_py_io,
    gen_python,
    gen_vectors,
)
from protocol.codegen.output import (
    COMMAND,
    CONSTANTS_PATH,
    MODEL_PATH,
    Output,
    Sources,
    stale,
    write,
)
from protocol.codegen.parse import load_model
from protocol.errors import ModelError

REPO_ROOT = Path(__file__).resolve().parents[2]


def outputs(root: Path = REPO_ROOT) -> list[Output]:
    """Every generated file as the model in `root` gives it."""
    model = load_model(root / MODEL_PATH)
    constants = hashlib.sha256((root / CONSTANTS_PATH).read_bytes()).hexdigest()
    sources = Sources(model.sha256, constants)
    return [
        gen_python.generate(model, sources),
        gen_py_io.generate(model, sources),
        gen_py_events.generate(model, sources),
        gen_vectors.generate(model),
        gen_c_model.generate(model, sources),
        gen_c_tables.generate(model, sources),
        gen_c_wire.generate(sources),
        *gen_c_events.generate(model, sources),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m protocol.codegen",
        description=f"Generate the device vocabulary from {MODEL_PATH}.",
    )
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a file is stale"
    )
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="repository root")
    args = parser.parse_args(argv)
    try:
        generated = outputs(args.root)
    except ModelError as exc:
        print(f"{MODEL_PATH}: {exc}", file=sys.stderr)
        return 2
    if args.check:
        bad = stale(generated, args.root)
        for path in bad:
            print(
                f"{path} is stale (not what {MODEL_PATH} gives); run `{COMMAND}`", file=sys.stderr
            )
        return 1 if bad else 0
    for path in write(generated, args.root):
        print(f"wrote {path}")
    return 0
