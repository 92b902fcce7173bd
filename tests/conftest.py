"""Shared tiny fixtures: a vocabulary, temporary data directories, the reference geodata."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from aop_map.settings import SETTINGS
from aop_map.vocabulary import Vocabulary

ROOT = Path(__file__).resolve().parents[1]
MAPDATA = ROOT / "mapdata"
# Open reference geodata beside the checkout: for checks only, never copied into the project.
SHARED_GEODATA = ROOT.parent / "shared" / "geodata"
# Modules whose every test starts another process (the CLI as a user runs it, the benchmark
# suite's workers): marked slow here, so `make test-fast` leaves them out. Browser modules mark
# themselves with `pytestmark`.
SLOW_MODULES = frozenset({"test_cli", "test_bench"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test of SLOW_MODULES `slow`."""
    for item in items:
        if item.path.stem in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def vocabulary() -> Vocabulary:
    """The bundled controlled vocabulary."""
    return Vocabulary.load(MAPDATA / "vocabulary.yaml")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """An empty data directory with the bundled vocabulary."""
    directory = tmp_path / "mapdata"
    directory.mkdir()
    shutil.copy(MAPDATA / "vocabulary.yaml", directory / "vocabulary.yaml")
    return directory


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never see a developer's settings (data dir, online geocoding, password...) and
    never write to the real home: caches, the loader's cache key ($XDG_CONFIG_HOME) and
    imported geodata ($XDG_DATA_HOME) go to the test's own temporary folder."""
    for name, setting in SETTINGS.items():
        if setting.scope == "app":
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AOP_MAP_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    """One headless system chromium per browser test module."""
    from tests.browser import system_chromium

    with system_chromium() as browser:
        yield browser
