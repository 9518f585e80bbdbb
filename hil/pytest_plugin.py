"""pytest plugin of teddy-hil: tier markers that skip with a reason, never fail.

``hil`` tests need a physical board (``--port``); ``wokwi`` tests need ``WOKWI_CLI_TOKEN``.
Without them the tests are reported as skipped with the reason, so a CI run on a machine
without boards is green and honest about what it did not run.
"""

from __future__ import annotations

import os

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("teddy-hil")
    group.addoption(
        "--port",
        default=None,
        help="serial port / pyserial URL of an attached board; enables tests marked hil",
    )


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
