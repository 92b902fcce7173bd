"""`import_csv`: spreadsheet rows become tidy YAML records; re-importing changes nothing."""

from __future__ import annotations

from pathlib import Path

from aop_map.importing import import_csv
from aop_map.loading import load_records

SHEET = """\
Name,Kind,Status,Art forms,Conditions,Postcode,Town
Breathe Choir,organisation,established,singing;music,COPD,GL50 3PR,
Paint Club,programme,emerging,visual arts,Mental health,,Stroud
Broken Row,organisation,,singing,,,
Typo Row,programme,emerging,singin,,,Stroud
"""


def test_import_writes_one_file_per_valid_record(data_dir: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(SHEET, encoding="utf-8")
    report = import_csv(sheet, data_dir)
    assert sorted(Path(p).name for p in report.written) == [
        "breathe-choir.yaml", "paint-club.yaml", "typo-row.yaml"]
    lines = {(p.line, p.field) for p in report.problems}
    assert (4, "status") in lines  # the broken row is reported, not written
    assert (5, "art_forms") in lines  # the unknown term is reported, the row kept
    loaded = load_records(data_dir, use_cache=False)
    assert loaded.problems == []
    assert {r.id for r in loaded.records} == {"breathe-choir", "paint-club", "typo-row"}
    choir = next(r for r in loaded.records if r.id == "breathe-choir")
    assert choir.art_forms == ["singing", "music"] and choir.conditions == ["copd"]


def test_reimport_changes_nothing(data_dir: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(SHEET, encoding="utf-8")
    import_csv(sheet, data_dir)
    before = {p.name: p.stat().st_mtime_ns for p in data_dir.glob("*.yaml")}
    again = import_csv(sheet, data_dir)
    assert again.written == [] and len(again.unchanged) == 3
    assert {p.name: p.stat().st_mtime_ns for p in data_dir.glob("*.yaml")} == before


def test_dry_run_writes_nothing(data_dir: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(SHEET, encoding="utf-8")
    report = import_csv(sheet, data_dir, dry_run=True)
    assert len(report.written) == 3
    assert sorted(p.name for p in data_dir.iterdir()) == ["vocabulary.yaml"]


def test_duplicate_names_in_one_sheet(data_dir: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "dup.csv"
    sheet.write_text("name,kind,status\nSame,venue,established\nSame,venue,emerging\n")
    report = import_csv(sheet, data_dir)
    assert len(report.written) == 1
    assert any("duplicate id 'same'" in p.message and p.line == 3 for p in report.problems)


def test_missing_file(tmp_path: Path, data_dir: Path) -> None:
    report = import_csv(tmp_path / "nope.csv", data_dir)
    assert report.problems[0].message == "file not found"
