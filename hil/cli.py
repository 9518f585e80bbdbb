"""`teddy-hil`: run scenarios, validate scenario files, list targets, print the schema.

argparse only parses; each subcommand calls one library function and maps its result
to an exit code:
- `run`: 0 when no scenario failed (skips are fine), 1 when one failed or could not
  be loaded, 2 for usage errors (unknown target, no scenario found, bad -k).
- `validate`: 0 when every file is valid, 1 otherwise (all problems are printed).
- Ctrl-C: 130, after the running scenario has stopped its target and server.

`run` offers every registered target's options as flags (`hil.targets.edge`); this is
one of the two places (with the pytest plugin) that read the environment, and only as
the defaults of those flags: `main(env=...)` takes it, `os.environ` when not given.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from hil.audio_cli import VOSK_MODEL_ENV, VOSK_MODEL_HELP
from hil.errors import HilError, display_path
from hil.junit import write_junit
from hil.report import progress_line, summary
from hil.result import ScenarioResult
from hil.scenario.loader import discover, validate_paths
from hil.scenario.schema import scenario_schema
from hil.server_edge import add_server_arguments, server_from_args
from hil.targets.edge import (
    add_arguments,
    choose_from,
    environment_help,
    option_groups,
    options_from,
)
from hil.targets.options import flags_of
from hil.targets.registry import all_targets

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports a pipe its reader closed
DEFAULT_PATHS = (Path("scenarios"),)

# Subcommands with their own argument parsers (module, function, help).
DELEGATED: dict[str, tuple[str, str, str]] = {
    "boards": (
        "hil.serial.cli",
        "boards_main",
        "list attached serial ports and the bench entries they match",
    ),
    "flash": (
        "hil.serial.cli",
        "flash_main",
        "flash a board with esptool (skipped when it already holds the image)",
    ),
    "audio": (
        "hil.audio_cli",
        "main",
        "judge a recording like expect_audio does; calibrate a sound card's latency",
    ),
    "virtual-board": (
        "hil.virtual_board.cli",
        "main",
        "run a virtual ESP32 board (ROM loader for esptool + the emulator) on socket://"
        " or rfc2217://",
    ),
    "wokwi-server": (
        "hil.wokwi.cli",
        "main",
        "serve Wokwi's simulation API locally (offline CI for --target wokwi)",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="teddy-hil", description="Run teddy-hil YAML scenarios against a target."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run",
        help="run scenarios and print a summary",
        description="Run scenarios on a target and print a summary.\nEach target's options"
        " are below; an environment variable gives the default of its flag.",
        epilog="environment variables (read only as defaults):\n" + environment_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _run_arguments(run, "scenario files or folders")
    conformance = sub.add_parser(
        "conformance",
        help="run the security and conformance packs against a server, a table per SPEC section",
        description="Run every scenario that declares SPEC sections (`spec:`: all of"
        " scenarios/security and scenarios/conformance, and the scenarios that catch a defect"
        " of a section), or PATHS, against a server (--server URL, default: the embedded"
        " reference server) and print, per SPEC section, which cases held, broke or were"
        " skipped.",
        epilog="exit 0 when no case broke (skips are fine), 1 when one broke",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _run_arguments(conformance, "scenario files or folders (default: the two packs)")
    selftest = sub.add_parser(
        "selftest",
        help="run the suite with each server and device quirk on: the kill matrix and its gaps",
        description="Run the scenarios once as they are, then once per quirk (SPEC Appendix B"
        " server quirks, Appendix C device quirks) with it on in every scenario, and print"
        " which scenarios fail with each. A quirk no scenario catches is a gap.",
        epilog="exit 0 when every quirk is caught and the suite passes without quirks, 1 otherwise",
    )
    selftest.add_argument("paths", nargs="*", type=Path, help="scenario files or folders")
    selftest.add_argument("--target", default="emulator", help="target name (see `targets`)")
    selftest.add_argument(
        "--quirk", action="append", default=[], help="only this quirk (name or side:name)"
    )
    selftest.add_argument(
        "--quick",
        action="store_true",
        help="per quirk, run only the recorded killers (scenarios/kill_matrix.json) up to the"
        " first kill",
    )
    selftest.add_argument(
        "--write", action="store_true", help="record the matrix (in --matrix) after a full run"
    )
    selftest.add_argument(
        "--matrix",
        type=Path,
        default=Path("scenarios/kill_matrix.json"),
        help="the recorded kill matrix --quick reads and --write writes"
        " (default scenarios/kill_matrix.json)",
    )
    selftest.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    selftest.add_argument(
        "--artifacts", type=Path, default=Path("artifacts/selftest"), help="artifact folder"
    )
    selftest.add_argument(
        "--keep-artifacts",
        action="store_true",
        help="keep every run's files (default: result.json and console.log only)",
    )
    for title, kind in option_groups():
        add_arguments(selftest.add_argument_group(title), kind)
    validate = sub.add_parser("validate", help="check scenario files, report every problem")
    validate.add_argument("paths", nargs="*", type=Path, help="files or folders")
    sub.add_parser("targets", help="list targets and their capabilities")
    sub.add_parser("schema", help="print the JSON Schema of scenario format v1")
    for name, (_, _, text) in DELEGATED.items():
        sub.add_parser(name, help=f"{text} (see `teddy-hil {name} --help`)", add_help=False)
    return parser


def _run_arguments(parser: argparse.ArgumentParser, paths_help: str) -> None:
    parser.add_argument("paths", nargs="*", type=Path, help=paths_help)
    parser.add_argument("--target", default="emulator", help="target name (see `targets`)")
    parser.add_argument("--junit", type=Path, help="write a JUnit XML report to this file")
    parser.add_argument("-k", dest="keyword", help="select by name/path/tag: 'claim and not slow'")
    parser.add_argument(
        "--artifacts",
        type=Path,
        default=Path("artifacts"),
        help="folder for per-run artifact folders (default: artifacts)",
    )
    parser.add_argument("-x", "--exitfirst", action="store_true", help="stop after a failure")
    parser.add_argument("--vosk-model", metavar="DIR", help=VOSK_MODEL_HELP)
    add_server_arguments(parser.add_argument_group("server under test"))
    for title, kind in option_groups():
        add_arguments(parser.add_argument_group(title), kind)


def run_delegated(name: str, argv: Sequence[str]) -> int:
    module_name, function, _ = DELEGATED[name]
    entry = getattr(importlib.import_module(module_name), function)
    result = entry(list(argv))
    return int(result)


def _missing_paths(paths: Sequence[Path], out: TextIO) -> bool:
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        print(f"teddy-hil: no such file or folder: {', '.join(missing)}", file=out)
    return bool(missing)


def cmd_run(
    args: argparse.Namespace,
    out: TextIO,
    env: Mapping[str, str],
    *,
    default_paths: tuple[Path, ...] = DEFAULT_PATHS,
    conformance: bool = False,
) -> int:
    # Imported here: the runner pulls in the server and speech stack (~1 s), which
    # `teddy-hil flash` and `boards` must not pay for.
    from hil.runner.session import RunRequest, plan, run_session

    paths = tuple(args.paths) or default_paths
    from hil.audio.transcribe import use_vosk_model

    use_vosk_model(args.vosk_model or env.get(VOSK_MODEL_ENV) or None)
    if _missing_paths(paths, out):
        return EXIT_USAGE
    # An unknown name, another target's flag or a bad option value is a usage error
    # before anything loads.
    target = choose_from(args.target, lambda dest: getattr(args, dest, None), env)
    request = RunRequest(
        paths=paths,
        target=target,
        server=server_from_args(args, env),
        artifacts=args.artifacts,
        keyword=args.keyword,
        fail_fast=args.exitfirst,
    )
    planned = plan(paths, keyword=args.keyword)[0]
    total = len(planned)
    if total == 0:
        print("teddy-hil: no scenarios selected", file=out)
        return EXIT_USAGE
    done: list[ScenarioResult] = []

    def show(result: ScenarioResult) -> None:
        done.append(result)
        print(progress_line(result, index=len(done), total=total), file=out, flush=True)

    began = time.monotonic()
    try:
        session = run_session(request, on_result=show)
    except KeyboardInterrupt:  # targets and servers were stopped on the way out
        elapsed = time.monotonic() - began
        print("\ninterrupted; results so far:\n" + summary(done, duration_s=elapsed), file=out)
        return EXIT_INTERRUPTED
    if conformance:
        from hil.conformance import by_section, render, spec_titles

        scenarios = {p.path: p.scenario for p in planned if p.scenario is not None}
        print("\n" + render(by_section(session.results, scenarios, spec_titles())), file=out)
    else:
        print(
            "\n"
            + summary(
                session.results, duration_s=session.duration_s, deselected=session.deselected
            ),
            file=out,
        )
    if session.run_dir is not None:
        print(f"artifacts: {display_path(session.run_dir)}", file=out)
    if args.junit is not None:
        write_junit(args.junit, session.results, duration_s=session.duration_s)
        print(f"junit: {display_path(args.junit)}", file=out)
    return EXIT_FAILED if session.failed else EXIT_OK


def cmd_selftest(args: argparse.Namespace, out: TextIO, env: Mapping[str, str]) -> int:
    from hil.runner.session import new_run_dir
    from hil.selftest import SelftestRequest, render_matrix, run_selftest, write_matrix

    paths = tuple(args.paths) or DEFAULT_PATHS
    if _missing_paths(paths, out):
        return EXIT_USAGE
    if args.quick and args.write:
        print("teddy-hil: --write records a full run; drop --quick", file=out)
        return EXIT_USAGE
    target = choose_from(args.target, lambda dest: getattr(args, dest, None), env)
    request = SelftestRequest(
        paths=paths,
        target=target,
        artifacts=new_run_dir(args.artifacts),
        only=tuple(args.quirk),
        quick=args.quick,
        matrix=args.matrix,
        workers=args.workers,
        keep_artifacts=args.keep_artifacts,
    )
    began = time.monotonic()

    def show(outcome: object) -> None:
        from hil.selftest import MutantOutcome

        assert isinstance(outcome, MutantOutcome)
        verdict = f"caught by {len(outcome.killed_by)}" if outcome.killed_by else "GAP"
        print(f"  {outcome.mutant.label}: {verdict}", file=out, flush=True)

    result = run_selftest(request, on_outcome=show)
    print("\n" + render_matrix(result.outcomes), file=out)
    for name, why in sorted(result.broken_baseline.items()):
        print(f"baseline: {name} did not pass without any quirk: {why}", file=out)
    print(
        f"selftest: {time.monotonic() - began:.0f} s, artifacts: {display_path(request.artifacts)}",
        file=out,
    )
    if args.write:
        write_matrix(args.matrix, result.outcomes)
        print(f"kill matrix: {display_path(args.matrix)}", file=out)
    return EXIT_FAILED if result.gaps or result.broken_baseline else EXIT_OK


def cmd_validate(args: argparse.Namespace, out: TextIO) -> int:
    paths = tuple(args.paths) or DEFAULT_PATHS
    if _missing_paths(paths, out):
        return EXIT_USAGE
    files = discover(paths, groups=True)
    if not files:
        print("teddy-hil: no scenario files found", file=out)
        return EXIT_USAGE
    problems = validate_paths(files)
    for problem in problems:
        print(problem.message, file=out)
    bad = len({p.file for p in problems})
    print(f"{len(files)} file(s) checked, {len(problems)} problem(s) in {bad} file(s)", file=out)
    return EXIT_FAILED if problems else EXIT_OK


def cmd_targets(out: TextIO, env: Mapping[str, str]) -> int:
    """Each target, with its options from the environment: available here or why not."""
    for name, cls in all_targets().items():
        caps = ", ".join(sorted(cls.declared_capabilities)) or "-"
        try:
            state = cls.unavailable_reason(options_from(cls.options_type, lambda _: None, env))
        except HilError as exc:
            state = str(exc)
        note = f" [unavailable: {state}]" if state else ""
        flags = ", ".join(flags_of(cls.options_type)) or "-"
        print(
            f"{name}: {cls.description}{note}\n  capabilities: {caps}\n  options: {flags}",
            file=out,
        )
    return EXIT_OK


def main(
    argv: Sequence[str] | None = None,
    *,
    out: TextIO | None = None,
    env: Mapping[str, str] | None = None,
) -> int:
    """`teddy-hil`; `env` gives the options' defaults (the process environment if None)."""
    stream = out or sys.stdout
    environment = os.environ if env is None else env
    words = list(sys.argv[1:] if argv is None else argv)
    if words and words[0] in DELEGATED:
        return run_delegated(words[0], words[1:])
    args = build_parser().parse_args(words)
    try:
        if args.command == "run":
            return cmd_run(args, stream, environment)
        if args.command == "conformance":
            from hil.conformance import SUITE, cases

            found = cases(SUITE) if not args.paths and SUITE.is_dir() else (SUITE,)
            return cmd_run(args, stream, environment, default_paths=found, conformance=True)
        if args.command == "selftest":
            return cmd_selftest(args, stream, environment)
        if args.command == "validate":
            return cmd_validate(args, stream)
        if args.command == "targets":
            return cmd_targets(stream, environment)
        print(json.dumps(scenario_schema(), indent=2), file=stream)
        return EXIT_OK
    except HilError as exc:
        print(f"teddy-hil: {exc}", file=stream)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("teddy-hil: interrupted", file=stream)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `teddy-hil targets | head`: the reader left; say nothing more
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush cannot fail
        return EXIT_BROKEN_PIPE


if __name__ == "__main__":
    sys.exit(main())
