"""aop_map.settings: the one true/false parser, the typed accessors, and that every AOP_MAP_*
variable named anywhere in the tree is declared there and documented in the README's table."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from aop_map import settings
from aop_map.settings import SETTINGS, SettingError

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
NAME = re.compile(r"\bAOP_MAP_[A-Z0-9_]*[A-Z0-9]\b")
# Not the project's own text: environments, caches, vendored copies, build and test output.
SKIP_DIRS = {".git", ".venv", "static", "test-artifacts", "build", "node_modules"}
SKIP_DIRS |= {"__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis", ".aop-cache"}
TEXT_SUFFIXES = {".py", ".md", ".toml", ".cfg", ".ini", ".sh", ".yaml", ".yml", ".txt"}
TEXT_NAMES = {"Makefile", "run"}  # .ci/run


def _is_project_dir(name: str) -> bool:
    if name in SKIP_DIRS or name.endswith(".egg-info"):
        return False
    return name in (".ci", ".streamlit") or not name.startswith(".")


def _is_text_file(name: str) -> bool:
    return Path(name).suffix in TEXT_SUFFIXES or name in TEXT_NAMES


def source_files() -> list[Path]:
    """Every text file of the project: code, docs, build and CI files."""
    found = []
    for directory, subdirs, files in os.walk(ROOT):
        subdirs[:] = [d for d in subdirs if _is_project_dir(d)]
        found += [Path(directory, f) for f in files if _is_text_file(f)]
    return found


def names_in_tree() -> dict[str, list[str]]:
    """Each AOP_MAP_* name found, with the files that mention it."""
    where: dict[str, list[str]] = {}
    for path in source_files():
        for name in set(NAME.findall(path.read_text(encoding="utf-8", errors="replace"))):
            where.setdefault(name, []).append(str(path.relative_to(ROOT)))
    return where


def readme_table_names() -> set[str]:
    """The variables named in the first column of the README's settings table."""
    return set(re.findall(r"^\| `(AOP_MAP_[A-Z0-9_]+)` \|", README.read_text(), re.MULTILINE))


def test_the_scan_sees_the_code() -> None:
    found = names_in_tree()
    assert "AOP_MAP_DATA_DIR" in found
    assert any(f.startswith("aop_map/") for f in found["AOP_MAP_DATA_DIR"])


def test_every_variable_in_the_tree_is_declared() -> None:
    missing = {name: files for name, files in names_in_tree().items() if name not in SETTINGS}
    assert not missing, f"add these to aop_map/settings.py SETTINGS: {missing}"


def test_every_declared_variable_is_in_the_readme_table() -> None:
    assert not set(SETTINGS) - readme_table_names(), "document them in README.md's table"
    assert not readme_table_names() - set(SETTINGS), "the README documents undeclared variables"


def test_the_readme_table_is_the_generated_one() -> None:
    hint = (
        "README.md's settings table differs from aop_map/settings.py; paste the output of "
        "python -c 'from aop_map.settings import markdown_table; print(markdown_table())'"
    )
    assert settings.markdown_table() in README.read_text(), hint


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        *[(word, True) for word in ("1", "true", "TrUe", "YES", "on", " 1 ")],
        *[(word, False) for word in ("0", "False", "no", "Off", "off ")],
    ],
)
def test_parse_flag(value: str, expected: bool) -> None:
    assert settings.parse_flag(value) is expected


@pytest.mark.parametrize("value", ["", "2", "maybe", "enabled", "y", "-1"])
def test_parse_flag_rejects_anything_else_by_name(value: str) -> None:
    with pytest.raises(SettingError, match=r"AOP_MAP_OFFLINE=.*not a true/false value"):
        settings.parse_flag(value, "AOP_MAP_OFFLINE")


def test_flag_unset_gives_the_declared_default() -> None:
    assert settings.flag("AOP_MAP_ONLINE_GEOCODING", {}) is False
    assert settings.flag("AOP_MAP_ONLINE_GEOCODING", {"AOP_MAP_ONLINE_GEOCODING": " "}) is False
    assert settings.flag("AOP_MAP_OFFLINE", {}) is None  # undecided: the app checks
    assert settings.flag("AOP_MAP_OFFLINE", {"AOP_MAP_OFFLINE": "yes"}) is True


def test_flag_reads_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AOP_MAP_ONLINE_GEOCODING", "on")
    assert settings.flag("AOP_MAP_ONLINE_GEOCODING") is True
    monkeypatch.setenv("AOP_MAP_ONLINE_GEOCODING", "nope")
    with pytest.raises(SettingError, match="AOP_MAP_ONLINE_GEOCODING='nope'"):
        settings.flag("AOP_MAP_ONLINE_GEOCODING")


def test_path_expands_home_and_is_none_when_unset() -> None:
    assert settings.path("AOP_MAP_DATA_DIR", {}) is None
    assert settings.path("AOP_MAP_DATA_DIR", {"AOP_MAP_DATA_DIR": ""}) is None
    got = settings.path("AOP_MAP_DATA_DIR", {"AOP_MAP_DATA_DIR": "~/data"})
    assert got == Path.home() / "data"


def test_count() -> None:
    assert settings.count("AOP_MAP_LOAD_WORKERS", {}) is None
    assert settings.count("AOP_MAP_LOAD_WORKERS", {"AOP_MAP_LOAD_WORKERS": "0"}) == 0
    assert settings.count("AOP_MAP_LOAD_WORKERS", {"AOP_MAP_LOAD_WORKERS": " 3 "}) == 3
    with pytest.raises(SettingError, match="not a whole number"):
        settings.count("AOP_MAP_LOAD_WORKERS", {"AOP_MAP_LOAD_WORKERS": "-1"})


def test_text_keeps_the_value_as_given() -> None:
    env = {"AOP_MAP_MODERATOR_PASSWORD": " correct horse "}
    assert settings.text("AOP_MAP_MODERATOR_PASSWORD", env) == " correct horse "
    assert settings.text("AOP_MAP_MODERATOR_PASSWORD", {}) is None


def test_undeclared_names_and_wrong_kinds_are_errors() -> None:
    undeclared = "AOP_MAP_" + "NOT_A_SETTING"  # built, so the tree scan does not see it
    with pytest.raises(SettingError, match="not a declared setting"):
        settings.raw(undeclared, {})
    with pytest.raises(SettingError, match="is a path setting, not a flag"):
        settings.flag("AOP_MAP_DATA_DIR", {})


def test_only_flags_have_defaults() -> None:
    assert all(s.default is None for s in SETTINGS.values() if s.kind != "flag")


def test_problems_name_every_bad_variable_of_a_scope() -> None:
    bad = {"AOP_MAP_OFFLINE": "maybe", "AOP_MAP_LOAD_WORKERS": "-1", "AOP_MAP_DATA_DIR": "x"}
    found = settings.problems(bad)
    assert len(found) == 2
    assert any(p.startswith("AOP_MAP_OFFLINE='maybe'") for p in found)
    assert any(p.startswith("AOP_MAP_LOAD_WORKERS='-1'") for p in found)
    assert settings.problems({}) == []
    assert settings.problems({"AOP_MAP_REQUIRE_BROWSER": "sure"}) == []  # a tests setting
    assert settings.problems({"AOP_MAP_REQUIRE_BROWSER": "sure"}, scope="tests")


# Each reader in the code goes through the declaration: a bad value is an error naming the
# variable, not a silent default (what `AOP_MAP_ONLINE_GEOCODING=maybe` used to mean).
def _readers() -> list[tuple[str, object]]:
    from aop_map.geocoding import online_enabled
    from aop_map.loading import load_workers

    return [
        ("AOP_MAP_ONLINE_GEOCODING", online_enabled),
        ("AOP_MAP_LOAD_WORKERS", lambda: load_workers(10_000)),
    ]


@pytest.mark.parametrize("index", [0, 1])
def test_call_sites_refuse_bad_values_by_name(monkeypatch: pytest.MonkeyPatch, index: int) -> None:
    name, read = _readers()[index]
    monkeypatch.setenv(name, "lots")
    with pytest.raises(SettingError, match=name):
        read()


def test_call_sites_read_paths_and_flags_through_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from aop_map.geocoding import online_enabled, user_geodata_dir
    from aop_map.loading import data_dir_from_env, default_cache_dir, load_workers
    from aop_map.store import SubmissionStore

    monkeypatch.setenv("AOP_MAP_DATA_DIR", f" {tmp_path / 'data'} ")  # stray spaces forgiven
    monkeypatch.setenv("AOP_MAP_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("AOP_MAP_GEODATA_DIR", str(tmp_path / "geo"))
    monkeypatch.setenv("AOP_MAP_SUBMISSIONS_DIR", str(tmp_path / "queue"))
    monkeypatch.setenv("AOP_MAP_ONLINE_GEOCODING", "Yes")
    monkeypatch.setenv("AOP_MAP_LOAD_WORKERS", "0")
    assert data_dir_from_env() == tmp_path / "data"
    assert default_cache_dir(tmp_path).parent == tmp_path / "cache"
    assert user_geodata_dir() == tmp_path / "geo"
    assert SubmissionStore().root == tmp_path / "queue"
    assert online_enabled() is True and load_workers(10_000) == 0
