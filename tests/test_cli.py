"""The `aop-map` command through its real entry point (a subprocess, as a user runs it).

Also what the commands must never do with user text (security issue 9): overwrite files an
import does not own, let a spreadsheet run a cell as a formula, or let a name drive the
terminal.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pandas as pd
import pytest

from aop_map.cli import build_parser
from aop_map.text import json_terminal_safe, spreadsheet_safe, table_to_csv, terminal_safe
from tests.conftest import MAPDATA

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
    return subprocess.run(
        [sys.executable, "-m", "aop_map", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=ROOT,
        timeout=120,
    )


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
    target = data_dir / "imported" / "paint-club.yaml"
    dry = run("import", str(sheet), "--into", str(data_dir), "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    report = json.loads(dry.stdout)
    assert report["written"] == [str(target)] and report["problems"] == []
    assert not target.exists()
    real = run("import", str(sheet), "--data-dir", str(data_dir), "--json")
    assert target.exists() and json.loads(real.stdout)["written"]
    again = run("import", str(sheet), "--json", env={"AOP_MAP_DATA_DIR": str(data_dir)})
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


# ---------------------------------------------------------------------------------------------
# import never overwrites what it does not own (issue 9, section 3)

HOSTILE_IDS = ["vocabulary", "gazetteer", "artlift", "../evil", "CON", ".hidden"]


def test_import_refuses_ids_it_does_not_own(tmp_path: Path) -> None:
    data = tmp_path / "mapdata"
    shutil.copytree(MAPDATA, data)
    owned = ["vocabulary.yaml", "gazetteer.csv", "providers/artlift.yaml"]
    before = {name: (data / name).read_bytes() for name in owned}
    sheet = tmp_path / "sheet.csv"
    rows = [f"{i},Row {i},venue,established,Stroud" for i in ["good-one", *HOSTILE_IDS]]
    sheet.write_text("id,name,kind,status,town\n" + "\n".join(rows) + "\n", encoding="utf-8")
    result = run("import", str(sheet), "--data-dir", str(data))
    assert result.returncode == 1, result.stderr
    for line, bad_id in enumerate(HOSTILE_IDS, start=3):
        assert f"sheet.csv line {line} [id]: " in result.stderr, (bad_id, result.stderr)
    assert "0 problem" not in result.stdout and "6 problem(s)" in result.stdout
    assert {name: (data / name).read_bytes() for name in owned} == before
    assert [p.name for p in (data / "imported").iterdir()] == ["good-one.yaml"]
    assert not (tmp_path / "evil.yaml").exists()
    # ...so the data still loads: every page would show the map rather than fail.
    after = run("validate", str(data), "--json")
    assert after.returncode == 0 and json.loads(after.stdout)["problems"] == []


# ---------------------------------------------------------------------------------------------
# CSV exports neutralise formulas (issue 9, section 4)

FORMULAS = {
    "formula-link": ('=HYPERLINK("http://evil.example","click")', "+1"),
    "formula-sum": ("@SUM(A1:A9)", "-2"),
    "formula-plus": ("+44 a name", "=1+1"),
}
FORMULA_RECORDS = "".join(
    f"- id: {record_id}\n  name: {json.dumps(name)}\n  summary: {json.dumps(summary)}\n"
    "  kind: organisation\n  status: established\n  locations: [{postcode: GL50 3PR}]\n"
    for record_id, (name, summary) in FORMULAS.items()
)


def assert_neutralised(text: str) -> None:
    """Each formula cell starts with ' and reads back as the original; numbers stay numbers."""
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(text))}
    assert set(rows) == set(FORMULAS)
    for record_id, (name, summary) in FORMULAS.items():
        assert rows[record_id]["name"] == "'" + name
        assert rows[record_id]["summary"] == "'" + summary
        assert float(rows[record_id]["lon"]) < 0 and not rows[record_id]["lon"].startswith("'")
    table = pd.read_csv(io.StringIO(text))  # a spreadsheet-like reader still reads it
    assert table["lon"].dtype == float and (table["lon"] < 0).all()
    assert sorted(table["name"].str[1:]) == sorted(name for name, _ in FORMULAS.values())


def test_export_csv_neutralises_formulas(data_dir: Path, tmp_path: Path) -> None:
    (data_dir / "formulas.yaml").write_text(FORMULA_RECORDS, encoding="utf-8")
    out = tmp_path / "out.csv"
    to_file = run("export", "--format", "csv", "--out", str(out), "--data-dir", str(data_dir))
    assert to_file.returncode == 0, to_file.stderr
    assert_neutralised(out.read_text(encoding="utf-8"))
    to_stdout = run("export", env={"AOP_MAP_DATA_DIR": str(data_dir)})
    assert_neutralised(to_stdout.stdout)


def test_export_geojson_is_strict_json_and_keeps_text(data_dir: Path) -> None:
    (data_dir / "formulas.yaml").write_text(FORMULA_RECORDS, encoding="utf-8")
    result = run("export", "--format", "geojson", "--data-dir", str(data_dir))

    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} is not JSON")

    collection = json.loads(result.stdout, parse_constant=refuse)
    names = sorted(f["properties"]["name"] for f in collection["features"])
    assert names == sorted(name for name, _ in FORMULAS.values())  # not a spreadsheet: as is
    for feature in collection["features"]:
        assert all(math.isfinite(c) for c in feature["geometry"]["coordinates"])


def test_directory_download_neutralises_formulas(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamlit.testing.v1 import AppTest, app_test

    (data_dir / "formulas.yaml").write_text(FORMULA_RECORDS, encoding="utf-8")
    monkeypatch.setenv("AOP_MAP_DATA_DIR", str(data_dir))
    monkeypatch.setenv("AOP_MAP_OFFLINE", "1")
    storages: list[app_test.MemoryMediaFileStorage] = []

    class Recording(app_test.MemoryMediaFileStorage):
        """AppTest's store of download data, kept for reading after the run."""

        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)
            storages.append(self)

    with mock.patch.object(app_test, "MemoryMediaFileStorage", Recording):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
        at.run()
        at.switch_page("pages/directory.py").run()
    assert not at.exception, [e.value for e in at.exception]
    button = next(b for b in at.get("download_button") if "CSV" in b.proto.label)
    data = storages[-1].get_file(button.proto.url.rsplit("/", 1)[1]).content
    assert_neutralised(data.decode("utf-8"))


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Arts = health", "Arts = health"),  # only a leading trigger is a formula
        ("", ""),
        ("'quoted", "'quoted"),
        (-2.5, -2.5),  # numbers are not user text
        (-3, -3),
        (None, None),
    ],
)
def test_spreadsheet_safe(cell: object, expected: object) -> None:
    assert spreadsheet_safe(cell) == expected


def test_table_to_csv_neutralises_text_only_and_leaves_the_table() -> None:
    table = pd.DataFrame(
        {"name": ["=1+1", "Plain", None], "lon": [-2.1, float("nan"), -0.5], "n": [-1, 0, 1]}
    )
    original = table.copy()
    rows = list(csv.reader(io.StringIO(table_to_csv(table))))
    assert rows == [
        ["name", "lon", "n"],
        ["'=1+1", "-2.1", "-1"],
        ["Plain", "", "0"],
        ["", "-0.5", "1"],
    ]
    pd.testing.assert_frame_equal(table, original)


# ---------------------------------------------------------------------------------------------
# Terminal output holds no control characters (issue 9, section 7)

# Clear screen, a hidden OSC 8 hyperlink, a carriage return that overwrites the line, a bell,
# an 8-bit CSI and a right-to-left override.
EVIL = "Choir\x1b[2J \x1b]8;;http://evil\x07click\x1b]8;;\x07\rFAKE\x07 \x9b31m \u202eevil"
CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("\x1b[2J", "\\x1b[2J"),
        ("\x1b]8;;http://evil\x07", "\\x1b]8;;http://evil\\x07"),
        ("a\rb\nc\td", "a\\rb\\nc\\td"),
        ("\x9b31m", "\\x9b31m"),
        ("\u202eevil", "\\u202eevil"),
        ("bad\udcff name", "bad\\udcff name"),  # an undecodable file name
        ("Café — ✓ 日本", "Café — ✓ 日本"),
    ],
)
def test_terminal_safe(text: str, shown: str) -> None:
    assert terminal_safe(text) == shown


def test_json_terminal_safe_is_the_same_json() -> None:
    value = {"name": EVIL, "bad": "\udcff", "ok": "Café"}
    text = json_terminal_safe(json.dumps(value, ensure_ascii=False, indent=2))
    assert not CONTROL.search(text.replace("\n", "")) and "Café" in text
    assert json.loads(text) == value


def submit_evil(data: Path) -> str:
    """A pending submission whose name and summary are terminal attacks; its reference."""
    from aop_map.store import SubmissionStore

    store = SubmissionStore(data_dir=data)
    listing = {
        "name": EVIL,
        "summary": EVIL,
        "kind": "programme",
        "status": "established",
        "areas_served": ["Stroud"],
        "consent": {"listing": True},
    }
    return store.submit(listing).id


def test_submissions_output_holds_no_control_characters(data_dir: Path) -> None:
    reference = submit_evil(data_dir)
    listed = run("submissions", "list", "--data-dir", str(data_dir))
    assert listed.returncode == 0, listed.stderr
    assert reference in listed.stdout and "\\x1b[2J" in listed.stdout
    shown = run("submissions", "show", reference, env={"AOP_MAP_DATA_DIR": str(data_dir)})
    assert reference in shown.stdout
    as_json = run("submissions", "list", "--json", "--data-dir", str(data_dir))
    assert json.loads(as_json.stdout)[0]["name"] == EVIL  # escaped, not changed
    missing = run("submissions", "show", "AOP-2026-ZZZZZZ\x1b[2J", "--data-dir", str(data_dir))
    for output in (listed, shown, as_json, missing):
        assert not CONTROL.search(output.stdout + output.stderr), repr(output)


def test_submissions_honour_the_data_directory(data_dir: Path, tmp_path: Path) -> None:
    reference = submit_evil(data_dir)
    assert reference in run("submissions", "list", "--data-dir", str(data_dir)).stdout
    assert reference in run("submissions", "list", env={"AOP_MAP_DATA_DIR": str(data_dir)}).stdout
    other = tmp_path / "other"
    shutil.copytree(data_dir, other, ignore=shutil.ignore_patterns("submissions"))
    assert reference not in run("submissions", "list", "--data-dir", str(other)).stdout
    queue = run(
        "submissions",
        "list",
        "--data-dir",
        str(other),
        "--submissions-dir",
        str(data_dir / "submissions"),
    )
    assert reference in queue.stdout


def test_validate_output_holds_no_control_characters(data_dir: Path) -> None:
    record = (
        f"id: evil\nname: {json.dumps(EVIL)}\nkind: venue\nstatus: established\n"
        f"art_forms: [{json.dumps(EVIL)}]\n{json.dumps(EVIL)}: unknown field\n"
        f"locations: [{{place: {json.dumps(EVIL)}}}]\n"
    )
    (data_dir / "evil\x1b[2J.yaml").write_text(record, encoding="utf-8")
    result = run("validate", str(data_dir))
    assert result.returncode == 1
    assert "evil\\x1b[2J.yaml" in result.stderr  # the file is named, visibly
    assert not CONTROL.search(result.stdout + result.stderr), result.stderr
    as_json = run("validate", str(data_dir), "--json")
    assert not CONTROL.search(as_json.stdout.replace("\n", ""))
    assert json.loads(as_json.stdout)["problems"]


def test_geocode_and_import_output_hold_no_control_characters(
    data_dir: Path, tmp_path: Path
) -> None:
    geocoded = run("geocode", EVIL)
    assert geocoded.returncode == 1 and "\\x1b[2J" in geocoded.stdout
    sheet = tmp_path / "evil\x1b[2J.csv"
    sheet.write_text(f"name,kind,status,{EVIL}\n{json.dumps(EVIL)},venue,,x\n", encoding="utf-8")
    imported = run("import", str(sheet), "--data-dir", str(data_dir))
    assert imported.returncode == 1
    for output in (geocoded, imported):
        assert not CONTROL.search(output.stdout + output.stderr), repr(output)


def test_export_to_a_terminal_shows_escapes(data_dir: Path) -> None:
    """CSV printed on a terminal (not piped) is shown, so its control characters are escaped."""
    import pty

    (data_dir / "evil.yaml").write_text(
        f"id: evil\nname: {json.dumps(EVIL)}\nkind: venue\nstatus: established\n"
        "locations: [{postcode: GL50 3PR}]\n",
        encoding="utf-8",
    )
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AOP_MAP_")}
    with subprocess.Popen(
        [sys.executable, "-m", "aop_map", "export", "--data-dir", str(data_dir)],
        stdout=follower,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=env,
    ) as process:
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed: the command has finished
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert process.wait(timeout=120) == 0
    os.close(leader)
    shown = b"".join(chunks).decode("utf-8").replace("\r\n", "\n")  # the terminal's own CRLF
    assert "\\x1b[2J" in shown and "evil" in shown
    assert not CONTROL.search(shown.replace("\n", "")), repr(shown)


def test_a_terminal_moderator_name_is_audited_as_self_declared(data_dir: Path) -> None:
    from aop_map.store import SubmissionStore

    reference = (
        SubmissionStore(data_dir=data_dir)
        .submit(
            {
                "name": "Quiet Choir",
                "kind": "programme",
                "status": "established",
                "areas_served": ["Stroud"],
                "consent": {"listing": True},
            }
        )
        .id
    )
    done = run(
        "submissions", "approve", reference, "--moderator", "Sam", "--data-dir", str(data_dir)
    )
    assert done.returncode == 0, done.stderr
    approvals = [
        e for e in SubmissionStore(data_dir=data_dir).audit_log() if e.get("action") == "approved"
    ]
    assert approvals and approvals[-1]["who"] == "Sam" and approvals[-1]["self_declared"]
