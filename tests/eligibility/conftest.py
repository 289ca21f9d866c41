"""The clinic tests' world: built once per test session on SQLite and copied per test.

On PostgreSQL each test builds it afresh in the emptied schemas.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kojin.app import build
from kojin.core.config import Settings
from tests.eligibility.world import World, build_world


@pytest.fixture(scope="session")
def world_template(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    data = tmp_path_factory.mktemp("clinic-world") / "data"
    shutil.copytree(sqlite_template, data)
    kojin = build(Settings(data_dir=data), migrate=False)
    try:
        spec = build_world(kojin).spec()
    finally:
        kojin.close()
    return data, spec


@pytest.fixture
def world(request: pytest.FixtureRequest, settings: Settings, database: str) -> Iterator[World]:
    if database == "sqlite":
        data, spec = request.getfixturevalue("world_template")
        shutil.copytree(data, settings.data_dir)
        kojin = build(settings, migrate=False)
        try:
            yield World.from_spec(kojin, spec)
        finally:
            kojin.close()
        return
    yield build_world(request.getfixturevalue("kojin"))
