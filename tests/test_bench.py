"""The benchmark suite at a tiny N, so it cannot rot: every figure is produced and both sides
of each stage compute the same answer. Benchmarks are not timed tests: nothing here asserts a
speed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aop_map import settings
from bench import report, suite
from bench.browser import unavailable_reason

TINY_N = 200
PYTHON_STAGES = ("load_cold", "load_warm", "geocode", "filter", "search", "map_build")
BROWSER_STAGES = ("browser", "app_first_map", "app_filter_roundtrip")


def _run(tmp_path: Path, stages: str) -> dict:
    options = suite.parse_args(
        [
            "--n",
            str(TINY_N),
            "--repeat",
            "1",
            "--slow-repeat",
            "1",
            "--naive-cap",
            "0",
            "--no-profile",
            "--stages",
            stages,
            "--out",
            str(tmp_path / "results" / "latest.json"),
        ]
    )
    return suite.run(options, log=lambda _text: None)


@pytest.fixture(scope="module")
def python_results(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    """The suite without browser stages (they need chromium; see the browser test below)."""
    tmp_path = tmp_path_factory.mktemp("bench")
    return _run(tmp_path, "load,geocode,filter,search,map_build"), tmp_path


def test_every_python_stage_has_both_sides(python_results: tuple[dict, Path]) -> None:
    document, _ = python_results
    stages = document["results"][str(TINY_N)]
    for name in PYTHON_STAGES:
        entry = stages[name]
        assert not entry.get("error"), entry.get("traceback")
        assert entry["ours_s"] > 0 and entry["naive_s"] > 0, name
        assert entry["ratio"] == pytest.approx(entry["naive_s"] / entry["ours_s"], rel=0.01)
        assert entry.get("naive_sample_n") is None, "tiny N must run the naive side in full"


def test_both_sides_compute_the_same_results(python_results: tuple[dict, Path]) -> None:
    stages = python_results[0]["results"][str(TINY_N)]
    assert stages["load_cold"]["same_records"] and stages["load_cold"]["records"] == TINY_N
    assert stages["geocode"]["same_points"]
    assert stages["geocode"]["found"] == stages["geocode"]["postcodes"] > 0
    assert stages["filter"]["same_ids"] and stages["filter"]["matched"] > 0
    assert stages["search"]["same_order"] and stages["search"]["same_relevance"]
    assert stages["search"]["matched"] > 0
    assert stages["map_build"]["same_points"]
    assert stages["map_build"]["points"] == stages["map_build"]["naive_points"] > 0


def test_extra_figures(python_results: tuple[dict, Path]) -> None:
    stages = python_results[0]["results"][str(TINY_N)]
    assert stages["map_build"]["html_bytes_per_record"] > 0
    assert stages["map_build"]["naive_html_bytes_per_record"] > 0
    assert stages["filter"]["build_index_s"] > 0
    assert stages["geocode"]["lookup_tables_loaded_s"] > 0


def test_writes_json_and_markdown(python_results: tuple[dict, Path]) -> None:
    document, tmp_path = python_results
    written = json.loads((tmp_path / "results" / "latest.json").read_text())
    assert set(written) >= {"machine", "results", "targets", "run"}
    assert written["machine"]["cores"] >= 1 and written["machine"]["python"]
    assert written["results"] == json.loads(json.dumps(document["results"]))
    table = (tmp_path / "results" / "latest.md").read_text()
    for name in PYTHON_STAGES:
        assert f"| {TINY_N} | {name} |" in table


def test_targets_name_known_stages() -> None:
    assert {t[0] for t in report.TARGETS} <= set(report.STAGES)
    assert set(report.STAGES) == {*PYTHON_STAGES, *BROWSER_STAGES}


def test_quick_mode_options() -> None:
    options = suite.parse_args(["--quick"])
    assert options.ns == (1_000, 10_000) and options.mode == "quick"
    with pytest.raises(SystemExit):
        suite.parse_args(["--stages", "load,teleport"])


@pytest.mark.browser
@pytest.mark.slow
def test_browser_and_app_stages(tmp_path: Path) -> None:
    """Headless Chromium and a real `streamlit run` (skipped without chromium)."""
    reason = unavailable_reason()
    if reason and settings.flag("AOP_MAP_REQUIRE_BROWSER"):
        pytest.fail(f"browser tests required (AOP_MAP_REQUIRE_BROWSER) but {reason}")
    if reason:
        pytest.skip(f"browser stages skipped: {reason}")
    stages = _run(tmp_path, "map_build,browser,app")["results"][str(TINY_N)]
    for name in BROWSER_STAGES:
        assert not stages[name].get("error"), stages[name].get("traceback")
        assert stages[name]["ours_s"] > 0, name
    assert stages["browser"]["naive_s"] > 0
    assert stages["app_filter_roundtrip"]["same_records"]


def test_readme_summary_is_replaced_not_appended(
    python_results: tuple[dict, Path], tmp_path: Path
) -> None:
    document, _ = python_results
    readme = tmp_path / "README.md"
    readme.write_text(
        "# Benchmarks\n\n<!-- results:full -->\nOLD-SUMMARY\n<!-- /results:full -->\ntail\n"
    )
    report.update_readme(readme, document)
    report.update_readme(readme, document)
    text = readme.read_text()
    assert text.count("<!-- results:full -->") == 1 and "OLD-SUMMARY" not in text
    assert f"| {TINY_N} | load_cold |" in text and text.endswith("tail\n")


def test_quick_run_keeps_the_full_results() -> None:
    assert suite.parse_args(["--quick"]).out == suite.QUICK_OUT
    assert suite.parse_args([]).out == suite.DEFAULT_OUT != suite.QUICK_OUT
