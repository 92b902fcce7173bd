"""Loading YAML/CSV: honest problems with file/line/field, nothing silently dropped, a cache."""

from __future__ import annotations

import os
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aop_map import loading, records
from aop_map.loading import (
    FileCache,
    Origin,
    data_signature,
    find_record_files,
    load_records,
    loader,
    normalise_header,
    parse_csv_text,
    processing,
    scan_record_files,
    split_list,
)
from aop_map.loading import cache as loading_cache
from aop_map.reading import parse_yaml_plainly, parse_yaml_text
from aop_map.vocabulary import Vocabulary

GOOD = """\
id: good-one
name: Good One
kind: organisation
status: established
conditions: [COPD]
locations:
  - place: Stroud
"""


@pytest.fixture(autouse=True)
def _private_cache_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The key that signs caches lives in the test's own config folder, not the user's."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def write(directory: Path, name: str, text: str | bytes) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_yaml_single_list_and_multi_document(data_dir: Path) -> None:
    write(data_dir, "one.yaml", GOOD)
    write(
        data_dir,
        "sub/list.yml",
        """\
- {id: a, name: A, kind: programme, status: emerging}
- {id: b, name: B, kind: venue, status: established}
""",
    )
    write(
        data_dir,
        "docs.yaml",
        "id: c\nname: C\nkind: venue\nstatus: new\n---\n"
        "id: d\nname: D\nkind: venue\nstatus: pilot\n",
    )
    result = load_records(data_dir)
    assert sorted(r.id for r in result.records) == ["a", "b", "c", "d", "good-one"]
    assert result.problems == []
    assert result.origins["b"].line == 2
    assert result.origins["d"].source.endswith("docs.yaml")


def test_bad_record_does_not_stop_the_others(data_dir: Path) -> None:
    write(
        data_dir,
        "mixed.yaml",
        """\
- id: fine
  name: Fine
  kind: organisation
  status: established
- id: broken
  kind: organisation
  status: established
  art_forms:
    [singing, basket weeving]
- just a string
""",
    )
    result = load_records(data_dir)
    assert [r.id for r in result.records] == ["fine"]
    by_line = {(p.line, p.field) for p in result.problems}
    assert (5, "name") in by_line  # missing name reported at the record's line
    assert (8, "art_forms") in by_line  # unknown terms reported even when the record fails
    assert (10, None) in by_line  # the stray string, at its own line
    assert all(p.source == "mapdata/mixed.yaml" for p in result.problems)


def test_unknown_term_names_file_line_field_and_suggests(data_dir: Path) -> None:
    write(data_dir, "p.yaml", GOOD.replace("[COPD]", "[COPD, demntia]"))
    result = load_records(data_dir)
    assert [r.conditions for r in result.records] == [["copd"]]
    (problem,) = result.problems
    assert (problem.source, problem.line, problem.field) == ("mapdata/p.yaml", 5, "conditions")
    assert "'demntia'" in problem.message and "'dementia'" in problem.message


def test_invalid_yaml_reported_with_line(data_dir: Path) -> None:
    write(data_dir, "bad.yaml", "id: x\nname: [unclosed\nkind: venue\n")
    write(data_dir, "good.yaml", GOOD)
    result = load_records(data_dir)
    assert [r.id for r in result.records] == ["good-one"]
    (problem,) = result.problems
    assert problem.source == "mapdata/bad.yaml" and "not valid YAML" in problem.message
    assert problem.line is not None


def test_duplicate_ids_name_both_places(data_dir: Path) -> None:
    write(data_dir, "a.yaml", GOOD)
    write(data_dir, "b.yaml", "# copy\n" + GOOD)
    result = load_records(data_dir)
    assert len(result.records) == 1
    (problem,) = result.problems
    assert problem.source == "mapdata/b.yaml" and problem.line == 2
    assert "mapdata/a.yaml line 1" in problem.message and "duplicate id" in problem.message


def test_reserved_and_hidden_files_are_not_records(data_dir: Path) -> None:
    write(data_dir, "gazetteer.csv", "name,lat,lon\nStroud,51.7,-2.2\n")
    write(data_dir, "submissions/s.yaml", GOOD)
    write(data_dir, ".aop-cache/x.yaml", GOOD)
    write(data_dir, "notes.txt", "hello")
    assert find_record_files(data_dir) == []


def test_missing_directory_is_a_problem(tmp_path: Path) -> None:
    result = load_records(tmp_path / "nope")
    assert result.records == [] and "not found" in result.problems[0].message


# --- CSV -------------------------------------------------------------------------------------

CSV_TEXT = """\
Name,Type,Status,Art forms,Health conditions,Post code,Town,Website,Publish contact,Last verified
Breathe Choir,Organisation,Established,Singing; Music,COPD|dementia,gl503pr,,https://example.org,yes,2024-05-01
,,,,,,,,,
Draw Together,Freelance artist,Emerging,"visual arts, crafts",Mental health,,Stroud,,no,
"""


def test_csv_headers_aliases_lists_and_blank_rows(data_dir: Path) -> None:
    write(data_dir, "sheet.csv", CSV_TEXT)
    result = load_records(data_dir)
    assert result.problems == []
    choir, drawing = sorted(result.records, key=lambda r: r.name)
    assert choir.id == "breathe-choir" and choir.kind == "organisation"
    assert choir.art_forms == ["singing", "music"]
    assert choir.conditions == ["copd", "dementia"]
    assert choir.locations[0].postcode == "gl503pr"
    assert choir.contact.website == "https://example.org" and choir.publish_contact is True
    assert str(choir.last_verified) == "2024-05-01"
    assert drawing.art_forms == ["visual-arts", "crafts"]  # comma list where unambiguous
    assert drawing.locations[0].place == "Stroud"
    assert result.origins["draw-together"].line == 4  # the blank row still counts as a line


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_csv_encodings(data_dir: Path, encoding: str) -> None:
    text = "name,kind,status,place\nCafé Créatif \u2013 Art,venue,established,Stroud\n"
    write(data_dir, "s.csv", text.encode(encoding))
    result = load_records(data_dir)
    assert [r.name for r in result.records] == ["Café Créatif \u2013 Art"]


def test_csv_semicolon_delimited_and_odd_headers(data_dir: Path) -> None:
    write(
        data_dir,
        "s.csv",
        "NAME ;  kind; STATUS;art-forms;Mystery\nCircus Skills;programme;emerging;circus;?\n",
    )
    result = load_records(data_dir)
    assert [r.art_forms for r in result.records] == [["circus"]]
    (warning,) = result.problems
    assert warning.severity == "warning" and "'Mystery'" in warning.message


def test_csv_bad_row_reported_with_row_number(data_dir: Path) -> None:
    write(
        data_dir,
        "s.csv",
        "name,kind,status,email\nOK,venue,established,\nBad,venue,established,nobody\n",
    )
    result = load_records(data_dir)
    assert [r.name for r in result.records] == ["OK"]
    (problem,) = result.problems
    assert (problem.line, problem.field) == (3, "contact.email")


def test_csv_problems_quote_only_a_short_excerpt_of_a_header(data_dir: Path) -> None:
    write(data_dir, "p.csv", "name," + "secret " * 200 + "\nX,y\n")
    result = load_records(data_dir)
    (problem,) = [p for p in result.problems if "not recognised" in p.message]
    assert len(problem.message) < 120 and len(problem.field or "") <= 60


def test_csv_without_name_column(data_dir: Path) -> None:
    write(data_dir, "s.csv", "town\nStroud\n")
    result = load_records(data_dir)
    assert any(p.field == "name" and "no 'name' column" in p.message for p in result.problems)


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("Art forms", "artforms"),
        ("art_forms", "artforms"),
        ("ART-FORMS", "artforms"),
        (" Post code ", "postcode"),
    ],
)
def test_normalise_header(header: str, key: str) -> None:
    assert normalise_header(header) == key


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("a; b", ["a", "b"]),
        ("a|b", ["a", "b"]),
        ("a, b", ["a", "b"]),
        ("a", ["a"]),
        ("", []),
        (" ; a ;", ["a"]),
    ],
)
def test_split_list(cell: str, expected: list[str]) -> None:
    assert split_list(cell) == expected


def test_split_list_keeps_a_term_containing_a_comma(vocabulary: Vocabulary) -> None:
    # "Arts, crafts" is not one term, so it splits; a synonym with a comma would not.
    assert split_list("visual arts, crafts", vocabulary, "art_forms") == ["visual arts", "crafts"]


# --- Cache -----------------------------------------------------------------------------------


def test_cache_is_used_and_invalidated(data_dir: Path, tmp_path: Path) -> None:
    path = write(data_dir, "p.yaml", GOOD)
    cache = tmp_path / "c"
    first = load_records(data_dir, cache_dir=cache)
    assert (cache / FileCache.FILE_NAME).is_file()
    again = load_records(data_dir, cache_dir=cache)
    assert [r.model_dump() for r in again.records] == [r.model_dump() for r in first.records]
    path.write_text(GOOD.replace("Good One", "Better One"), encoding="utf-8")
    os.utime(path, ns=(1, 1))  # even an mtime going backwards invalidates (size + mtime key)
    changed = load_records(data_dir, cache_dir=cache)
    assert [r.name for r in changed.records] == ["Better One"]


def test_cache_serves_only_unchanged_files(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(processing, "SHARD_FILES", 1)  # a changed file costs its shard only
    write(data_dir, "a.yaml", GOOD)
    changed = write(data_dir, "b.yaml", GOOD.replace("good-one", "other").replace("Good", "B"))
    cache = tmp_path / "c"
    load_records(data_dir, cache_dir=cache)
    changed.write_text(GOOD.replace("good-one", "other").replace("Good One", "Bee"), "utf-8")
    parsed: list[str] = []
    real = processing.parse_file
    monkeypatch.setattr(processing, "parse_file", lambda p: parsed.append(p.name) or real(p))
    result = load_records(data_dir, cache_dir=cache)
    assert parsed == ["b.yaml"]
    assert [r.name for r in result.records] == ["Good One", "Bee"]


def test_cache_keeps_problems_and_duplicates(data_dir: Path, tmp_path: Path) -> None:
    write(data_dir, "a.yaml", GOOD)
    write(data_dir, "b.yaml", GOOD.replace("[COPD]", "[COPD, knitting-for-dragons]"))
    cache = tmp_path / "c"
    cold = load_records(data_dir, cache_dir=cache)
    warm = load_records(data_dir, cache_dir=cache)
    assert warm.problems == cold.problems and len(warm.problems) == 2
    assert any(
        "duplicate id 'good-one'" in p.message and "a.yaml" in p.message for p in warm.problems
    )
    assert warm.origins == cold.origins == {"good-one": Origin("mapdata/a.yaml", 1)}


def test_vocabulary_change_revalidates_cached_files(data_dir: Path, tmp_path: Path) -> None:
    write(data_dir, "p.yaml", GOOD.replace("[COPD]", "[knitting-for-dragons]"))
    cache = tmp_path / "c"
    assert load_records(data_dir, cache_dir=cache).problems
    vocab = data_dir / "vocabulary.yaml"
    vocab.write_text(
        vocab.read_text("utf-8").replace(
            "conditions:\n", "conditions:\n  - id: knitting-for-dragons\n    label: Dragons\n", 1
        ),
        "utf-8",
    )
    result = load_records(data_dir, cache_dir=cache)
    assert result.problems == [] and result.records[0].conditions == ["knitting-for-dragons"]


def test_a_cache_from_other_code_is_not_trusted(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(data_dir, "p.yaml", GOOD)
    cache = tmp_path / "c"
    load_records(data_dir, cache_dir=cache)
    monkeypatch.setattr(loading_cache, "_code_fingerprint", lambda: "another version")
    parsed: list[str] = []
    real = processing.parse_file
    monkeypatch.setattr(processing, "parse_file", lambda p: parsed.append(p.name) or real(p))
    assert [r.id for r in load_records(data_dir, cache_dir=cache).records] == ["good-one"]
    assert parsed == ["p.yaml"]  # validated again, not served from the old cache


def test_every_module_that_shapes_a_result_keys_the_cache(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The loader and the schema are packages: a file added to either, or code moved between
    # their files, must still change the key, or an old cache would be served as new.
    real = loading_cache.CODE_DIR
    sources = loading_cache.shaping_sources(real)
    names = {path.relative_to(real).as_posix() for path in sources}
    for package in (loading, records):
        folder = Path(package.__file__).parent
        assert {f"{folder.name}/{path.name}" for path in folder.glob("*.py")} <= names
    assert {"reading.py", "vocabulary.py", "text.py"} <= names
    copy = tmp_path / "aop_map"
    for path in sources:
        target = copy / path.relative_to(real)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    monkeypatch.setattr(loading_cache, "CODE_DIR", copy)
    vocabulary = loading.load_vocabulary(data_dir)

    def key() -> str:
        loading_cache._code_fingerprint.cache_clear()
        return loading.cache_key(data_dir.parent, vocabulary)

    try:
        before = key()
        assert key() == before
        for path in sorted(copy.rglob("*.py")):
            text = path.read_bytes()
            path.write_bytes(text + b"\n# changed\n")
            assert key() != before, path.relative_to(copy)
            path.write_bytes(text)
        assert key() == before
    finally:
        loading_cache._code_fingerprint.cache_clear()  # the real folder's, on next use


def test_corrupt_cache_is_ignored(data_dir: Path, tmp_path: Path) -> None:
    write(data_dir, "p.yaml", GOOD)
    cache = tmp_path / "c"
    cache.mkdir()
    (cache / FileCache.FILE_NAME).write_bytes(b"\x80\x04garbage")
    assert [r.id for r in load_records(data_dir, cache_dir=cache).records] == ["good-one"]
    (cache / FileCache.FILE_NAME).write_bytes(b"not a pickle")
    assert [r.id for r in load_records(data_dir, cache_dir=cache).records] == ["good-one"]


def _many(data_dir: Path, n: int) -> None:
    for i in range(n):
        write(
            data_dir,
            f"r/{i:03}.yaml",
            GOOD.replace("good-one", f"r{i}").replace("Good One", f"Record {i}"),
        )
    write(data_dir, "r/bad.yaml", "id: [unclosed\n")
    write(data_dir, "r/dup.yaml", GOOD.replace("good-one", "r7"))


def test_loading_in_worker_processes_gives_the_same_result(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(processing, "SHARD_FILES", 3)
    _many(data_dir, 40)
    serial = load_records(data_dir, use_cache=False, workers=0)
    parallel = load_records(data_dir, cache_dir=tmp_path / "c", workers=2)
    assert [r.model_dump() for r in parallel.records] == [r.model_dump() for r in serial.records]
    assert parallel.problems == serial.problems and len(serial.problems) == 2
    assert parallel.origins == serial.origins
    warm = load_records(data_dir, cache_dir=tmp_path / "c", workers=2)  # from workers' shards
    assert [r.model_dump() for r in warm.records] == [r.model_dump() for r in serial.records]
    assert warm.problems == serial.problems


def test_a_failing_worker_pool_falls_back_to_this_process(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(processing, "SHARD_FILES", 2)
    _many(data_dir, 5)

    def broken(*_args: object) -> None:
        raise OSError("no semaphores here")

    monkeypatch.setattr(processing, "_process_in_pool", broken)
    result = load_records(data_dir, use_cache=False, workers=2)
    assert len(result.records) == 6 and "no semaphores here" in caplog.text


def test_worker_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AOP_MAP_LOAD_WORKERS", raising=False)
    assert loading.load_workers(10) == 0  # this process alone
    assert loading.load_workers(100_000) == min((os.cpu_count() or 1) - 1, loading.MAX_LOAD_WORKERS)
    monkeypatch.setenv("AOP_MAP_LOAD_WORKERS", "0")
    assert loading.load_workers(100_000) == 0
    monkeypatch.setenv("AOP_MAP_LOAD_WORKERS", "3")
    assert loading.load_workers(2) == 3


def test_cache_reshards_after_many_small_changes(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loader, "MAX_SHARDS", 3)
    cache = tmp_path / "c"
    key = loading.cache_key(data_dir.parent, loading.load_vocabulary(data_dir))
    for i in range(5):  # one new file per load, as approvals arrive
        write(data_dir, f"n{i}.yaml", GOOD.replace("good-one", f"n{i}"))
        result = load_records(data_dir, cache_dir=cache)
        assert len(result.records) == i + 1
        assert 1 <= len(FileCache(cache, key).shards) <= 3
        assert FileCache(cache, "another vocabulary").shards == []
    assert [r.id for r in load_records(data_dir, cache_dir=cache).records] == [
        f"n{i}" for i in range(5)
    ]


@pytest.mark.parametrize(
    "text",
    [
        GOOD,
        "a: &x [1, 2]\nb: *x\n",
        "base: &b {k: 1}\nm:\n  <<: *b\n  j: 2\n",
        "a: !!binary aGk=\nb: 2020-01-01\nc: 1.5\nd: yes\ne: null\nf: '3'\ng: 0x1F\n",
        "- {id: a, 1: x, ? [k]: no}\n",
        "- &r {id: a, name: A}\n- *r\n---\n!!set {a, b}\n",
        "a: !!omap [b: 1]\nc: !custom x\n",
        "a: 2024-13-45\n",
        "[1, *undefined]\n",
        "? *a\n",
        "",
        "---\n---\n# only comments\n",
    ],
)
def test_fast_conversion_matches_pyyaml(text: str) -> None:
    import yaml

    try:
        expected = list(yaml.load_all(text, Loader=yaml.SafeLoader))
    except (yaml.YAMLError, ValueError) as error:
        # PyYAML's own error, or a ValueError (a bad date) now reported as invalid YAML
        with pytest.raises(type(error) if isinstance(error, yaml.YAMLError) else yaml.YAMLError):
            parse_yaml_text(text)
        return
    got = [raw.data for raw in parse_yaml_text(text)]
    plain = [raw.data for raw in parse_yaml_plainly(text)]
    expected = [item for doc in expected for item in (doc if isinstance(doc, list) else [doc])]
    assert repr(got) == repr(expected) == repr(plain)  # a top-level list is a list of records


def test_fast_reading_matches_the_plain_twin_on_real_records() -> None:
    for path in sorted((Path(__file__).parents[1] / "mapdata" / "providers").glob("*.yaml")):
        text = path.read_text("utf-8")
        fast, plain = parse_yaml_text(text), parse_yaml_plainly(text)
        assert [(r.data, r.line, r.field_lines) for r in fast] == [
            (r.data, r.line, r.field_lines) for r in plain
        ], path.name


def test_scan_matches_a_walk_and_signature_tracks_changes(data_dir: Path) -> None:
    write(data_dir, "b.yaml", GOOD)
    write(data_dir, "a/z.csv", "name\nX\n")
    write(data_dir, "a/y/x.yml", GOOD)
    write(data_dir, ".aop-cache/junk.yaml", GOOD)
    write(data_dir, "_drafts/d.yaml", GOOD)
    write(data_dir, "submissions/s.yaml", GOOD)
    names = [Path(f.path).relative_to(data_dir).as_posix() for f in scan_record_files(data_dir)]
    assert names == ["b.yaml", "a/z.csv", "a/y/x.yml"]
    before = data_signature(data_dir)
    assert data_signature(data_dir) == before
    write(data_dir, "a/new.yaml", GOOD)
    assert data_signature(data_dir) != before


# --- Property tests: random input never raises and always reports ----------------------------

yaml_text = st.text(alphabet=string.printable + "äé–\u2028", max_size=400)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=yaml_text)
def test_random_yaml_never_raises(data_dir: Path, text: str) -> None:
    write(data_dir, "r.yaml", text)
    result = load_records(data_dir, use_cache=False)
    for record in result.records:  # whatever loads is a full, valid record
        assert record.id and record.name
    if not result.records and text.strip() and not text.strip().startswith("#"):
        assert result.problems or _is_empty_yaml(text)


def _is_empty_yaml(text: str) -> bool:
    try:
        return not parse_yaml_text(text) or all(r.data is None for r in parse_yaml_text(text))
    except Exception:
        return False


record_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=30),
    st.lists(st.text(max_size=10), max_size=3),
    st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3),
)
record_dicts = st.dictionaries(
    st.sampled_from(
        [
            "id",
            "name",
            "kind",
            "status",
            "conditions",
            "art_forms",
            "locations",
            "contact",
            "sources",
            "last_verified",
            "publish_contact",
            "extra",
        ]
    ),
    record_values,
    max_size=10,
)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.lists(record_dicts, max_size=4))
def test_random_records_are_loaded_or_reported(data_dir: Path, data: list[dict]) -> None:
    import yaml

    write(data_dir, "r.yaml", yaml.safe_dump(data))
    result = load_records(data_dir, use_cache=False)
    # Every input record is either loaded or has at least one problem: none vanish.
    assert len(result.records) + len(
        {p.line for p in result.problems if p.severity == "error"}
    ) >= len(data) or len(result.records) == len(data)


@settings(max_examples=150, deadline=None)
@given(text=st.text(alphabet=string.printable + ';|"éñ', max_size=300))
def test_random_csv_never_raises(text: str) -> None:
    raws, problems = parse_csv_text(text, "r.csv")
    assert isinstance(raws, list) and isinstance(problems, list)
    for raw in raws:
        assert isinstance(raw.data, dict) and raw.line >= 1


def test_loading_from_a_threaded_process_uses_a_safe_start_method(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # A Streamlit server has many threads: forking it could copy a held lock into the worker.
    import threading

    monkeypatch.setattr(processing, "SHARD_FILES", 4)
    _many(data_dir, 12)
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, daemon=True)
    thread.start()
    try:
        assert processing._pool_context().get_start_method() != "fork"
        result = load_records(data_dir, use_cache=False, workers=1)
    finally:
        stop.set()
        thread.join()
    assert len(result.records) == 12 and len(result.problems) == 2
    assert "parallel loading failed" not in caplog.text  # the workers did run
