"""pytest plugin of teddy-hil: tier markers that skip with a reason, and scenario items.

``hil`` tests need a physical board (``--port``); ``wokwi`` tests need ``WOKWI_CLI_TOKEN``.
Without them the tests are reported as skipped with the reason, so a CI run on a machine
without boards is green and honest about what it did not run.

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
from typing import Any

import pytest

from hil.errors import ScenarioLoadError, UnknownTargetError
from hil.result import ScenarioResult, Status
from hil.runner.run import missing_capability, run_scenario
from hil.runner.server_setup import server_capabilities, shared_pipeline
from hil.runner.session import artifact_name, load_failure
from hil.scenario.loader import is_step_group, load_scenario
from hil.scenario.model import Scenario
from hil.serial.selection import ENV_PORT
from hil.targets.registry import get_target

SCENARIO_DIR = "scenarios"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("teddy-hil")
    group.addoption(
        "--port",
        default=None,
        help="serial port / pyserial URL of an attached board; enables tests marked hil",
    )
    group.addoption(
        "--target",
        default="emulator",
        help="teddy-hil target the scenarios/*.yaml items run on (default: emulator)",
    )
    group.addoption(
        "--artifacts",
        default=None,
        help="keep scenario artifact folders under this folder (default: pytest's tmp dir)",
    )

    parser.addini(
        "hil_scenario_dirs",
        type="linelist",
        default=[SCENARIO_DIR],
        help="folders (relative to the rootdir) whose *.yaml files are teddy-hil scenarios",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "emu: runs the Python emulator or a loopback server")
    port = config.getoption("--port")
    if port:
        # The serial target reads its port from the environment; every xdist worker runs
        # pytest_configure itself, so each one gets it.
        os.environ[ENV_PORT] = str(port)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    port = config.getoption("--port")
    token = os.environ.get("WOKWI_CLI_TOKEN")
    no_board = pytest.mark.skip(
        reason="needs a board: pass --port /dev/ttyUSB0 (or a pyserial URL)"
    )
    no_token = pytest.mark.skip(reason="needs a Wokwi account: set WOKWI_CLI_TOKEN")
    for item in items:
        if item.get_closest_marker("hil") and not port:
            item.add_marker(no_board)
        if item.get_closest_marker("wokwi") and not token:
            item.add_marker(no_token)


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
            target_cls = get_target(self.target_name)
        except UnknownTargetError:
            return None  # runtest reports it as a failure
        unavailable = target_cls.unavailable_reason()
        if unavailable:
            return f"target {self.target_name} unavailable: {unavailable}"
        offered = target_cls.declared_capabilities | server_capabilities()
        return missing_capability(scenario.needs(), offered, target_cls.capability_notes)

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
                target_cls=get_target(self.target_name),
                artifact_dir=artifact_dir,
                pipeline=shared_pipeline(),
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
