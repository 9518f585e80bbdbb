"""pytest plugin of teddy-hil: target options, tier markers that skip with a reason, items.

Every registered target's options are pytest flags (``--port``, ``--wokwi-build``,
``--fw-host``...; ``hil.targets.edge``), with the same environment variables as
defaults as ``teddy-hil run``: this plugin is one of the two places that read them.
Tests get the options through the ``target_options`` fixture (``target_options(
SerialOptions)``), never from the environment.

A tier marker names the target its tests need: ``hil`` -> ``serial`` (a board:
``--port`` or ``--bench``), ``wokwi`` -> ``wokwi`` (``$WOKWI_CLI_TOKEN``), ``host_fw`` ->
``firmware-host`` (the built ``teddy-fw-host``). When that target is unavailable with
the given options, the tests are reported as skipped with its reason, so a CI run on a
machine without boards is green and honest about what it did not run.

YAML files below ``<rootdir>/scenarios/`` (ini ``hil_scenario_dirs``; not in
``scenarios/common/``, which holds step groups) are collected as one test item each,
named by the file. The plugin only collects and calls the runner (``hil.runner``).
``--target`` picks the target (default ``emulator``, whose items get the ``emu``
marker); ``--artifacts DIR`` keeps the per-scenario artifact folders (default: pytest's
tmp dir); a failure shows the same report as ``teddy-hil run``. Items run
independently, so ``pytest -n 2`` (pytest-xdist) works: every worker process builds
its own speech pipeline once.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import Any, Final, Protocol

import pytest

from hil.audio_cli import VOSK_MODEL_ENV, VOSK_MODEL_HELP
from hil.errors import HilError, ScenarioLoadError, UnknownTargetError
from hil.result import ScenarioResult, Status
from hil.runner.run import run_scenario, skip_before_start
from hil.runner.server_setup import shared_pipeline
from hil.runner.servers import ServerChoice
from hil.runner.session import artifact_name, load_failure
from hil.scenario.loader import is_step_group, load_scenario
from hil.scenario.model import Scenario
from hil.server_edge import HARNESS_TOKEN_ENV, SERVER_HELP, server_choice
from hil.targets.base import ChosenTarget
from hil.targets.edge import environment_only, option_groups, options_from
from hil.targets.options import OptionsT, help_of, option_fields
from hil.targets.registry import get_target

SCENARIO_DIR = "scenarios"
# Tier marker -> the target its tests need (skipped with that target's unavailable reason).
TIER_TARGETS: Final = {"hil": "serial", "wokwi": "wokwi", "host_fw": "firmware-host"}
_OPTIONS_KEY = pytest.StashKey[dict[type, object]]()
_SERVER_KEY = pytest.StashKey[ServerChoice]()


class OptionsFor(Protocol):
    """The `target_options` fixture: `target_options(SerialOptions)` -> SerialOptions."""

    def __call__(self, kind: type[OptionsT]) -> OptionsT: ...


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("teddy-hil")
    env_only = "; ".join(
        f"{target}: ${spec.env} ({spec.help})" for target, spec in environment_only()
    )
    group.addoption(
        "--target",
        default="emulator",
        help="teddy-hil target the scenarios/*.yaml items run on (default: emulator); its"
        f" options are the flags below, and from the environment only: {env_only}",
    )
    group.addoption(
        "--artifacts",
        default=None,
        help="keep scenario artifact folders under this folder (default: pytest's tmp dir)",
    )
    group.addoption("--vosk-model", default=None, metavar="DIR", help=VOSK_MODEL_HELP)

    server = parser.getgroup("teddy-hil server under test")
    server.addoption("--server", default=None, metavar="URL", help=SERVER_HELP["server"])
    server.addoption(
        "--harness-token", default=None, metavar="TOKEN", help=SERVER_HELP["harness_token"]
    )
    server.addoption(
        "--server-provisioning",
        default=None,
        metavar="FILE",
        help=SERVER_HELP["server_provisioning"],
    )

    for title, kind in option_groups():
        options = parser.getgroup(f"teddy-hil {title}")
        for _, spec in option_fields(kind):
            if spec.flag is not None:
                options.addoption(
                    spec.flag,
                    dest=spec.dest,
                    default=None,
                    metavar=spec.metavar,
                    help=help_of(spec),
                )

    parser.addini(
        "hil_scenario_dirs",
        type="linelist",
        default=[SCENARIO_DIR],
        help="folders (relative to the rootdir) whose *.yaml files are teddy-hil scenarios",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "emu: runs the Python emulator or a loopback server")
    config.stash[_OPTIONS_KEY] = {}
    config.stash[_SERVER_KEY] = _server_choice(config)
    from hil.audio.transcribe import use_vosk_model

    use_vosk_model(config.getoption("--vosk-model") or os.environ.get(VOSK_MODEL_ENV) or None)
    try:
        target = get_target(config.getoption("--target"))
    except UnknownTargetError:
        return  # each scenario item reports it as its failure
    options_for(config, target.options_type)  # a bad value stops the run here, clearly


def _server_choice(config: pytest.Config) -> ServerChoice:
    url = config.getoption("--server")
    token = config.getoption("--harness-token")
    if url is not None and token is None:  # the environment only as the default
        token = os.environ.get(HARNESS_TOKEN_ENV) or None
    provisioning = config.getoption("--server-provisioning")
    try:
        choice = server_choice(
            url, token=token, provisioning=Path(provisioning) if provisioning else None
        )
    except HilError as exc:
        raise pytest.UsageError(str(exc)) from None
    workers = config.getoption("numprocesses", None)
    if url is not None and workers not in (None, 0, 1, "0", "1"):
        # One server, reset before every scenario (SPEC §11.2): workers would reset it
        # under each other's feet.
        raise pytest.UsageError("--server runs scenarios one at a time: drop -n")
    return choice


def server_of(config: pytest.Config) -> ServerChoice:
    return config.stash[_SERVER_KEY]


def options_for(config: pytest.Config, kind: type[OptionsT]) -> OptionsT:
    """The options of `kind` from this run's flags and, as defaults, the environment.

    Built once per session; a bad value stops the run with the option's message.
    """
    cache = config.stash[_OPTIONS_KEY]
    if kind not in cache:
        try:
            cache[kind] = options_from(kind, config.getoption, os.environ)
        except HilError as exc:
            raise pytest.UsageError(str(exc)) from None
    found = cache[kind]
    assert isinstance(found, kind)
    return found


@pytest.fixture
def target_options(request: pytest.FixtureRequest) -> OptionsFor:
    """`target_options(SerialOptions)`: a target's options as this pytest run was given them."""
    config = request.config

    def build(kind: type[OptionsT]) -> OptionsT:
        return options_for(config, kind)

    return build


def chosen(config: pytest.Config, name: str) -> ChosenTarget:
    cls = get_target(name)
    return ChosenTarget(cls, options_for(config, cls.options_type))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skips: dict[str, pytest.MarkDecorator | None] = {}
    for item in items:
        for marker, target in TIER_TARGETS.items():
            if not item.get_closest_marker(marker):
                continue
            if marker not in skips:
                reason = chosen(config, target).unavailable_reason()
                skips[marker] = pytest.mark.skip(reason=f"{target}: {reason}") if reason else None
            skip = skips[marker]
            if skip is not None:
                item.add_marker(skip)


def is_scenario_file(path: Path, *, roots: list[Path]) -> bool:
    """A *.yaml inside one of `roots` and not in a `common/` folder of step groups.

    Only the configured folders count, so other YAML (Wokwi's own `scenarios/` of a
    firmware project, CI configs) is never mistaken for a teddy-hil scenario.
    """
    if path.suffix not in (".yaml", ".yml"):
        return False
    for root in roots:
        if path.is_relative_to(root):
            return not is_step_group(path.relative_to(root))
    return False


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> ScenarioFile | None:
    config = parent.config
    roots = [config.rootpath / name for name in config.getini("hil_scenario_dirs")]
    if is_scenario_file(file_path, roots=roots):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


class ScenarioFile(pytest.File):
    def collect(self) -> list[pytest.Item]:
        return [ScenarioItem.from_parent(self, name=self.path.stem)]


class ScenarioFailedError(Exception):
    """Raised by ScenarioItem.runtest; repr_failure prints the runner's report."""

    def __init__(self, result: ScenarioResult) -> None:
        super().__init__(result.reason)
        self.result = result


class ScenarioItem(pytest.Item):
    def __init__(self, **kwargs: Any) -> None:  # pytest's from_parent protocol
        super().__init__(**kwargs)
        self.target_name: str = self.config.getoption("--target")
        self.scenario: Scenario | None = None
        self.load_error: ScenarioLoadError | None = None
        try:
            self.scenario = load_scenario(self.path)
        except ScenarioLoadError as exc:
            self.load_error = exc
        if self.target_name == "emulator":
            self.add_marker(pytest.mark.emu)
        if self.scenario is not None:  # `-k smoke` selects by tag, as `teddy-hil run -k`
            self.extra_keyword_matches.update((self.scenario.name, *self.scenario.tags))
            reason = self._static_skip_reason(self.scenario)
            if reason:  # known before running: reported at the scenario file, not here
                self.add_marker(pytest.mark.skip(reason=reason))

    def _static_skip_reason(self, scenario: Scenario) -> str | None:
        try:
            target = chosen(self.config, self.target_name)
        except UnknownTargetError:
            return None  # runtest reports it as a failure
        return skip_before_start(scenario, target, server_of(self.config))

    def _artifact_dir(self) -> Path:
        name = artifact_name(self.path)
        root = self.config.getoption("--artifacts")
        if root:
            return Path(root) / name
        factory = getattr(self.config, "_tmp_path_factory", None)
        if factory is not None:
            return Path(factory.mktemp(f"hil-{self.path.stem}", numbered=True))
        return Path(tempfile.mkdtemp(prefix=f"hil-{self.path.stem}-"))

    def runtest(self) -> None:
        if self.scenario is None:
            assert self.load_error is not None
            raise ScenarioFailedError(
                load_failure(self.path, self.load_error, target=self.target_name)
            )
        artifact_dir = self._artifact_dir()
        self.user_properties.append(("artifacts", str(artifact_dir)))
        result = asyncio.run(
            run_scenario(
                self.scenario,
                target=chosen(self.config, self.target_name),
                artifact_dir=artifact_dir,
                pipeline=shared_pipeline(),
                server=server_of(self.config),
            )
        )
        if result.status is Status.SKIPPED:
            pytest.skip(result.reason)
        if result.status is Status.FAILED:
            raise ScenarioFailedError(result)

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str | Any:
        if isinstance(excinfo.value, ScenarioFailedError):
            return excinfo.value.result.failure_text()
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int, str]:
        name = self.scenario.name if self.scenario else self.path.stem
        return self.path, 0, f"scenario {name} on {self.target_name}"
