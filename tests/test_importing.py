"""`import_csv`: spreadsheet rows become tidy YAML records in the import folder, and nothing else.

Re-importing changes nothing; an id that names a data file, a folder, a device or another
record's file is a reported problem, never a takeover (security issue 9, section 3).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from aop_map.importing import IMPORT_DIR, import_csv
from aop_map.loading import load_records
from tests.conftest import MAPDATA

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
        "breathe-choir.yaml",
        "paint-club.yaml",
        "typo-row.yaml",
    ]
    assert {Path(p).parent for p in report.written} == {data_dir / IMPORT_DIR}
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
    before = {p.name: p.stat().st_mtime_ns for p in data_dir.rglob("*.yaml")}
    again = import_csv(sheet, data_dir)
    assert again.written == [] and len(again.unchanged) == 3
    assert not [p for p in again.problems if p.field == "id"]  # its own files
    assert {p.name: p.stat().st_mtime_ns for p in data_dir.rglob("*.yaml")} == before


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


# ---------------------------------------------------------------------------------------------
# Import never overwrites what it does not own

# Ids a row must not take: data files, the curated record artlift, a community record, a path
# out of the folder, a Windows device, a hidden file. The first and last rows are good.
HOSTILE_IDS = [
    "vocabulary",
    "gazetteer",
    "artlift",
    "choir",
    "../evil",
    "CON",
    "con",
    ".hidden",
    "_private",
    "imported",
    "submissions",
    "lpt1",
]
HOSTILE_SHEET = "id,name,kind,status,town\n" + "".join(
    [
        "good-one,Good One,venue,established,Stroud\n",
        *(f"{i},Row {i},venue,established,Stroud\n" for i in HOSTILE_IDS),
        ",Vocabulary,venue,established,Stroud\n",  # a name, not an id: it gets a safe id
        "good-two,Good Two,venue,established,Stroud\n",
    ]
)


@pytest.fixture
def full_data(tmp_path: Path) -> Path:
    """A copy of the bundled mapdata (curated records, vocabulary, gazetteer) + a community one."""
    directory = tmp_path / "mapdata"
    shutil.copytree(MAPDATA, directory)
    community = directory / "community"
    community.mkdir()
    (community / "choir.yaml").write_text(
        "id: choir\nname: Choir\nkind: venue\nstatus: established\n", encoding="utf-8"
    )
    return directory


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file's bytes, except those of the import folder and the loader's cache."""
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file() and p.relative_to(directory).parts[0] not in (IMPORT_DIR, ".aop-cache")
    }


def test_hostile_ids_are_problems_and_nothing_else_changes(full_data: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(HOSTILE_SHEET, encoding="utf-8")
    before = snapshot(full_data)
    report = import_csv(sheet, full_data)
    id_problems = {p.line: p for p in report.problems if p.field == "id"}
    for line, bad_id in enumerate(HOSTILE_IDS, start=3):
        assert line in id_problems, f"id {bad_id!r} on line {line} was not reported"
        assert id_problems[line].severity == "error"
    assert len(id_problems) == len(HOSTILE_IDS)
    assert "already used in mapdata/providers/artlift.yaml" in id_problems[5].message
    assert "already used in mapdata/community/choir.yaml" in id_problems[6].message
    assert "reserved" in id_problems[3].message and "reserved" in id_problems[4].message
    assert snapshot(full_data) == before  # vocabulary, gazetteer, curated: byte for byte
    imported = sorted(p.name for p in (full_data / IMPORT_DIR).iterdir())
    assert imported == ["good-one.yaml", "good-two.yaml", "vocabulary-record.yaml"]
    assert not (tmp_path / "evil.yaml").exists() and not list(tmp_path.glob("*.yaml"))
    loaded = load_records(full_data, use_cache=False)
    assert loaded.problems == []
    artlift = next(r for r in loaded.records if r.id == "artlift")
    assert artlift.name != "Row artlift"  # the curated record, not the row


def test_dry_run_reports_the_same_takeovers(full_data: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(HOSTILE_SHEET, encoding="utf-8")
    report = import_csv(sheet, full_data, dry_run=True)
    assert len([p for p in report.problems if p.field == "id"]) == len(HOSTILE_IDS)
    assert len(report.written) == 3 and not (full_data / IMPORT_DIR).exists()


def test_reimport_may_change_its_own_files(data_dir: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("id,name,kind,status\nclub,Club,venue,established\n", encoding="utf-8")
    import_csv(sheet, data_dir)
    sheet.write_text("id,name,kind,status\nclub,Club,venue,emerging\n", encoding="utf-8")
    report = import_csv(sheet, data_dir)
    assert report.problems == [] and report.written == [str(data_dir / IMPORT_DIR / "club.yaml")]
    assert "emerging" in (data_dir / IMPORT_DIR / "club.yaml").read_text(encoding="utf-8")
    assert not [p for p in (data_dir / IMPORT_DIR).iterdir() if p.name.startswith(".")]


def test_an_id_held_by_another_import_file_is_not_taken(data_dir: Path, tmp_path: Path) -> None:
    folder = data_dir / IMPORT_DIR
    folder.mkdir()
    (folder / "by-hand.yaml").write_text(
        "id: club\nname: Club\nkind: venue\nstatus: established\n", encoding="utf-8"
    )
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("id,name,kind,status\nclub,Club,venue,emerging\n", encoding="utf-8")
    report = import_csv(sheet, data_dir)
    assert [p.line for p in report.problems] == [2] and report.written == []
    assert "imported/by-hand.yaml" in report.problems[0].message


def test_an_import_folder_leading_elsewhere_is_refused(full_data: Path, tmp_path: Path) -> None:
    (full_data / IMPORT_DIR).symlink_to(full_data / "providers", target_is_directory=True)
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("name,kind,status\nNew One,venue,established\n", encoding="utf-8")
    before = snapshot(full_data)
    report = import_csv(sheet, full_data)
    assert report.written == [] and "link" in report.problems[0].message
    assert snapshot(full_data) == before and not (full_data / "providers" / "new-one.yaml").exists()


def test_a_missing_data_directory_is_not_created(tmp_path: Path) -> None:
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("name,kind,status\nNew One,venue,established\n", encoding="utf-8")
    report = import_csv(sheet, tmp_path / "typo")
    assert report.written == [] and "not found" in report.problems[0].message
    assert not (tmp_path / "typo").exists()
