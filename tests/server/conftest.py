"""Fixtures for the reference-server tests: isolated data dirs with a movable clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from server.settings import Profile
from tests.server.helpers import Harness, make_harness


@pytest.fixture
def dev(tmp_path: Path) -> Iterator[Harness]:
    harness = make_harness(tmp_path / "data")
    yield harness
    harness.state.store.close()


@pytest.fixture
def prod(tmp_path: Path) -> Iterator[Harness]:
    harness = make_harness(tmp_path / "data", profile=Profile.PRODUCTION)
    yield harness
    harness.state.store.close()
