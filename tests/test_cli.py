"""The `aop-map` command through its real entry point (a subprocess, as a user runs it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from aop_map.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]

GOOD = """\
id: breathe
name: Breathe Choir
kind: organisation
status: established
art_forms: [singing]
conditions: [COPD]
locations:
  - postcode: gl503pr
"""


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `python -m aop_map ARGS` with a clean environment (no online geocoding)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("AOP_MAP_")}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "aop_map", *args], capture_output=True,
                          text=True, env=full_env, cwd=ROOT, timeout=120)


def test_console_script_installed() -> None:
    script = Path(sys.executable).with_name("aop-map")
    if not script.exists():
        pytest.skip("aop-map console script not installed in this interpreter's environment")
    result = subprocess.run([str(script), "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and "aop-map" in result.stdout


def test_every_command_has_help() -> None:
    parser = build_parser()
    stack = [parser]
    seen = 0
    while stack:
        current = stack.pop()
        for action in current._actions:
            if hasattr(action, "choices") and isinstance(action.choices, dict):
                for name, sub in action.choices.items():
                    help_texts = {a.dest: a.help for a in action._choices_actions}
                    assert help_texts.get(name), f"command {name!r} has no help"
                    stack.append(sub)
                    seen += 1
    assert seen >= 9


def test_validate_ok(data_dir: Path) -> None:
    (data_dir / "breathe.yaml").write_text(GOOD, encoding="utf-8")
    result = run("validate", str(data_dir), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"records": 1, "locations": 1, "problems": []}


def test_validate_reports_problems_as_json(data_dir: Path) -> None:
    (data_dir / "breathe.yaml").write_text(GOOD.replace("[COPD]", "[COPD, demntia]"))
    (data_dir / "bad.csv").write_text("name,kind,status\nNo Status,venue,\n", encoding="utf-8")
    result = run("validate", str(data_dir), "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["records"] == 1
    problems = {(p["source"], p["line"], p["field"]) for p in report["problems"]}
    assert ("mapdata/breathe.yaml", 6, "conditions") in problems
    assert ("mapdata/bad.csv", 2, "status") in problems
    for problem in report["problems"]:
        assert set(problem) >= {"source", "line", "field", "message"}


def test_validate_honours_data_dir_env(data_dir: Path) -> None:
    (data_dir / "breathe.yaml").write_text(GOOD, encoding="utf-8")
    result = run("validate", "--json", env={"AOP_MAP_DATA_DIR": str(data_dir)})
    assert json.loads(result.stdout)["records"] == 1


def test_validate_text_output_names_the_problem(data_dir: Path) -> None:
    (data_dir / "breathe.yaml").write_text(GOOD.replace("gl503pr", "ZZ99 9ZZ"))
    result = run("validate", str(data_dir))
    assert result.returncode == 1
    assert "ZZ99 9ZZ" in result.stderr and "breathe.yaml" in result.stderr


def test_bundled_data_validates_cleanly() -> None:
    result = run("validate", "mapdata", "--json")
    report = json.loads(result.stdout)
    assert report["problems"] == [], report["problems"]
    assert result.returncode == 0
    assert report["records"] >= 10 and report["locations"] >= 10


def test_import_json_and_dry_run(data_dir: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "s.csv"
    sheet.write_text("Name,Type,Status,Town\nPaint Club,programme,emerging,Stroud\n")
    dry = run("import", str(sheet), "--into", str(data_dir), "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    report = json.loads(dry.stdout)
    assert report["written"] == [str(data_dir / "paint-club.yaml")] and report["problems"] == []
    assert not (data_dir / "paint-club.yaml").exists()
    real = run("import", str(sheet), "--into", str(data_dir), "--json")
    assert (data_dir / "paint-club.yaml").exists() and json.loads(real.stdout)["written"]
    again = run("import", str(sheet), "--into", str(data_dir), "--json")
    assert json.loads(again.stdout)["written"] == []


def test_geocode_postcode_place_and_unknown() -> None:
    result = run("geocode", "gl503pr", "GL14", "Stroud", "ZZ99 9ZZ", "--json")
    assert result.returncode == 1  # one query was not found
    postcode, outward, place, unknown = json.loads(result.stdout)
    assert postcode["query"] == "gl503pr" and postcode["precision"] == "postcode"
    assert postcode["district_code"] == "E07000078" and postcode["district_name"] == "Cheltenham"
    assert 51.8 < postcode["lat"] < 52.0 and -2.2 < postcode["lon"] < -2.0
    assert outward["precision"] == "postcode_district"
    assert outward["district_name"] == "Forest of Dean"
    assert place["precision"] == "place" and place["district_name"] == "Stroud"
    assert unknown["lat"] is None and unknown["lon"] is None and unknown["message"]


def test_export_csv_and_geojson(data_dir: Path, tmp_path: Path) -> None:
    (data_dir / "breathe.yaml").write_text(GOOD, encoding="utf-8")
    out = tmp_path / "out.geojson"
    result = run("export", "--format", "geojson", "--out", str(out), "--data-dir", str(data_dir))
    assert result.returncode == 0, result.stderr
    collection = json.loads(out.read_text(encoding="utf-8"))
    assert collection["type"] == "FeatureCollection"
    assert [f["properties"]["name"] for f in collection["features"]] == ["Breathe Choir"]
    csv_result = run("export", "--format", "csv", env={"AOP_MAP_DATA_DIR": str(data_dir)})
    assert "Breathe Choir" in csv_result.stdout


def test_unknown_command_fails_cleanly() -> None:
    result = run("frobnicate")
    assert result.returncode == 2 and "invalid choice" in result.stderr
