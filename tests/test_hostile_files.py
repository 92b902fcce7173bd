"""Hostile data files (issue 9 §2): refused quickly with one clear problem, never a crash.

Every file here is generated in code into a temporary data folder, beside good records that
must all still load. The cases that once crashed or ate the machine (deep nesting, an alias
bomb, 200,000 keys) load in a separate process with a time and memory limit, so a regression
fails its test instead of killing pytest.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from aop_map import loading, reading
from aop_map.loading import FileCache, load_records, load_vocabulary, processing
from aop_map.loading import cache as loading_cache
from aop_map.vocabulary import VocabularyError

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
VOCABULARY = ROOT / "mapdata" / "vocabulary.yaml"
# Generous for a busy CI machine: each of these takes milliseconds when refused as it should.
LOAD_SECONDS = 10.0
SUBPROCESS_TIMEOUT_S = 120
SUBPROCESS_MEMORY = 2 * 1024**3  # an alias bomb that got through would need far more

GOOD_YAML = """\
id: good-choir
name: Good Choir
kind: organisation
status: established
conditions: [copd]
areas_served: [stroud]
locations: [{place: Stroud}]
"""
GOOD_LIST = """\
- id: good-painters
  name: Good Painters
  kind: programme
  status: emerging
  art_forms: [visual-arts]
  areas_served: [cotswold]
"""
GOOD_CSV = "name,kind,status,areas served\nGood Dancers,programme,emerging,gloucester\n"
GOOD_IDS = ["good-choir", "good-painters", "good-dancers"]


@pytest.fixture(autouse=True)
def _private_cache_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The cache key of these tests lives in their own config folder, not the user's."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def data_folder(tmp_path: Path, name: str = "mapdata") -> Path:
    """A data folder with the bundled vocabulary and three good records in three files."""
    folder = tmp_path / name
    (folder / "providers").mkdir(parents=True)
    shutil.copy(VOCABULARY, folder / "vocabulary.yaml")
    (folder / "providers" / "a-good.yaml").write_text(GOOD_YAML, "utf-8")
    (folder / "providers" / "b-good-list.yml").write_text(GOOD_LIST, "utf-8")
    (folder / "providers" / "c-good.csv").write_text(GOOD_CSV, "utf-8")
    return folder


# ---------------------------------------------------------------------------------------------
# The corpus: (file name under providers/, how to write it, words of the one problem, its line)


def _deep_flow(path: Path) -> None:  # 60 KB, 30,000 levels: once a segfault (exit 139)
    path.write_text("[" * 30_000 + "]" * 30_000, "utf-8")


def _deep_mapping(path: Path) -> None:
    path.write_text("{a: " * 30_000 + "}" * 30_000, "utf-8")


def _deep_block(path: Path) -> None:  # indentation rather than brackets
    path.write_text("".join("  " * i + "- \n" for i in range(200)), "utf-8")


def _billion_laughs(path: Path) -> None:  # ~1 KB; once 5.2 GB, 44 s and a MemoryError
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        name, previous = chr(ord("a") + i), chr(ord("a") + i - 1)
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    path.write_text("\n".join(lines) + "\n", "utf-8")


def _many_keys(path: Path) -> None:  # 200,000 unknown keys, 2.3 MB: once minutes
    path.write_text(
        "id: many\nname: Many\n" + "".join(f"k{i}: v\n" for i in range(200_000)), "utf-8"
    )


def _many_keys_small(path: Path) -> None:  # under the size limit: the key limit stops it
    path.write_text("id: many\nname: Many\n" + "".join(f"k{i}: v\n" for i in range(5_000)), "utf-8")


def _self_alias(path: Path) -> None:
    path.write_text("id: loop\nname: &n [*n]\n", "utf-8")


def _oversized_yaml(path: Path) -> None:
    path.write_text("notes: " + "x" * reading.MAX_FILE_BYTES + "\n", "utf-8")


def _oversized_csv(path: Path) -> None:  # a sparse file: big on paper, refused unread
    with open(path, "wb") as handle:
        handle.truncate(reading.MAX_CSV_BYTES + 1)


def _many_csv_columns(path: Path) -> None:
    path.write_text(",".join(f"c{i}" for i in range(100_000)) + "\nx\n", "utf-8")


def _many_csv_rows(path: Path) -> None:
    path.write_text("name\n" + "\n" * (reading.MAX_CSV_ROWS + 10), "utf-8")


def _utf16_yaml(path: Path) -> None:
    path.write_bytes(GOOD_YAML.replace("good-choir", "wide").encode("utf-16"))


def _utf16_csv(path: Path) -> None:
    path.write_bytes("name\nWide Dancers\n".encode("utf-16-be"))  # no byte-order mark


def _impossible_date(path: Path) -> None:  # once a ValueError that stopped the whole load
    path.write_text(
        GOOD_YAML.replace("good-choir", "dated") + "last_verified: 2024-13-45\n", "utf-8"
    )


def _named_pipe(path: Path) -> None:  # reading one would wait forever
    os.mkfifo(path)


def _link_to_passwd(path: Path) -> None:
    path.symlink_to("/etc/passwd")


CORPUS: dict[str, tuple[str, Callable[[Path], None], str, int | None]] = {
    "deep-flow": ("deep.yaml", _deep_flow, "nested more than 32 levels deep", 1),
    "deep-mapping": ("deep-map.yaml", _deep_mapping, "nested more than 32 levels deep", 1),
    "deep-block": ("deep-block.yaml", _deep_block, "nested more than 32 levels deep", 33),
    "billion-laughs": ("laughs.yaml", _billion_laughs, "aliases are expanded", 6),
    "many-keys": ("keys.yaml", _many_keys, "over the 1 MiB limit", None),
    "many-keys-small": ("keys-small.yaml", _many_keys_small, "more than 1,000 keys", 1),
    "self-alias": ("self.yaml", _self_alias, "inside the value it names", 2),
    "oversized-yaml": ("big.yaml", _oversized_yaml, "over the 1 MiB limit", None),
    "oversized-csv": ("big.csv", _oversized_csv, "over the 64 MiB limit", None),
    "csv-columns": ("wide.csv", _many_csv_columns, "a row of 100,000 cells", 1),
    "csv-rows": ("long.csv", _many_csv_rows, "more than 200,000 rows", 200_001),
    "utf16-yaml": ("wide.yaml", _utf16_yaml, "wide.yaml is UTF-16 text; save it as UTF-8", None),
    "utf16-csv": ("wide16.csv", _utf16_csv, "UTF-16 without a byte-order mark", None),
    "impossible-date": ("dated.yaml", _impossible_date, "month must be in 1..12", 8),
    "named-pipe": ("pipe.yaml", _named_pipe, "not a regular file", None),
    "link-to-passwd": ("passwd.yaml", _link_to_passwd, "a symbolic link", None),
}
# Run in another process: these crashed or exhausted the machine before the limits.
RISKY = {
    "deep-flow",
    "deep-mapping",
    "deep-block",
    "billion-laughs",
    "many-keys",
    "many-keys-small",
    "self-alias",
}

_LOAD_SCRIPT = """
import json, resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, ({memory}, {memory}))
from pathlib import Path
from aop_map.loading import load_records
start = time.perf_counter()
result = load_records(sys.argv[1], cache_dir=Path(sys.argv[2]))
print(json.dumps({{"seconds": time.perf_counter() - start,
                  "records": [r.id for r in result.records],
                  "problems": [p.as_dict() for p in result.problems]}}))
"""


def load_elsewhere(folder: Path, cache: Path) -> dict:
    """load_records in a fresh process with a time and memory limit: its records, problems
    and load time. A crash (a segfault is exit -11) or a timeout fails the calling test."""
    script = _LOAD_SCRIPT.format(memory=SUBPROCESS_MEMORY)
    done = subprocess.run(
        [sys.executable, "-c", script, str(folder), str(cache)],
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT_S,
        cwd=ROOT,
        env={**os.environ},
        check=False,
    )
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    return json.loads(done.stdout)


def load_here(folder: Path, cache: Path) -> dict:
    start = time.perf_counter()
    result = load_records(folder, cache_dir=cache)
    return {
        "seconds": time.perf_counter() - start,
        "records": [r.id for r in result.records],
        "problems": [p.as_dict() for p in result.problems],
    }


@pytest.mark.parametrize("case", sorted(CORPUS))
def test_a_hostile_file_is_one_problem_and_the_good_records_load(case: str, tmp_path: Path) -> None:
    name, write, words, line = CORPUS[case]
    folder = data_folder(tmp_path)
    write(folder / "providers" / name)
    load = load_elsewhere if case in RISKY else load_here
    for attempt in ("cold", "from the cache"):
        got = load(folder, tmp_path / "cache")
        assert got["seconds"] < LOAD_SECONDS, attempt
        assert sorted(got["records"]) == sorted(GOOD_IDS), attempt
        (problem,) = got["problems"]
        assert problem["source"] == f"mapdata/providers/{name}", attempt
        assert words in problem["message"], problem
        assert problem["line"] == line, problem
        assert problem["severity"] == "error"


def test_a_flood_of_problems_from_one_file_is_summed_up(tmp_path: Path) -> None:
    folder = data_folder(tmp_path)
    (folder / "providers" / "flood.yaml").write_text("- not a record\n" * 60_000, "utf-8")
    got = load_here(folder, tmp_path / "cache")
    assert got["seconds"] < LOAD_SECONDS
    assert sorted(got["records"]) == sorted(GOOD_IDS)
    assert {p["source"] for p in got["problems"]} == {"mapdata/providers/flood.yaml"}
    assert len(got["problems"]) == loading.MAX_PROBLEMS_PER_FILE + 1
    assert got["problems"][-1]["message"].startswith("59,800 more problems in this file")


def test_links_to_folders_are_not_walked(tmp_path: Path) -> None:
    folder = data_folder(tmp_path)
    (folder / "providers" / "loop").symlink_to(folder)  # once walked 40 levels deep
    (folder / "etc").symlink_to("/etc")
    (folder / "README.md").symlink_to("/etc/passwd")  # not a data file: not read, not a problem
    result = load_records(folder, use_cache=False)
    assert sorted(r.id for r in result.records) == sorted(GOOD_IDS)
    assert [(p.source, p.message) for p in result.problems] == [
        ("mapdata/etc", reading.LINK_REASON),
        ("mapdata/providers/loop", reading.LINK_REASON),
    ]


def test_a_folder_tree_deeper_than_python_recursion_is_scanned_safely(tmp_path: Path) -> None:
    folder = data_folder(tmp_path)
    deep = folder / "providers"
    for _ in range(60):  # os paths allow far more; 60 is enough to pass the folder limit
        deep = deep / "d"
    deep.mkdir(parents=True)
    (deep / "buried.yaml").write_text(GOOD_YAML.replace("good-choir", "buried"), "utf-8")
    result = load_records(folder, use_cache=False)
    assert sorted(r.id for r in result.records) == sorted(GOOD_IDS)
    (problem,) = result.problems
    assert f"nested more than {loading.MAX_FOLDER_DEPTH} deep" in problem.message


def test_a_file_swapped_for_a_link_after_the_scan_is_still_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text(GOOD_YAML.replace("good-choir", "smuggled"), "utf-8")
    path = tmp_path / "swapped.yaml"
    path.symlink_to(outside)
    raws, problems = loading.parse_file(path)
    assert raws == [] and [p.message for p in problems] == [reading.LINK_REASON]


def test_validate_exits_normally_on_deep_nesting(tmp_path: Path) -> None:
    folder = data_folder(tmp_path)
    _deep_flow(folder / "providers" / "deep.yaml")
    done = subprocess.run(
        [sys.executable, "-m", "aop_map", "validate", str(folder), "--json"],
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT_S,
        cwd=ROOT,
        env={**os.environ, "AOP_MAP_OFFLINE": "1"},
        check=False,
    )
    assert done.returncode == 1, (done.returncode, done.stderr[-2000:])  # once 139
    report = json.loads(done.stdout)
    assert report["records"] == len(GOOD_IDS)
    assert [(p["source"], p["line"]) for p in report["problems"] if "nested" in p["message"]] == [
        ("mapdata/providers/deep.yaml", 1)
    ]


# ---------------------------------------------------------------------------------------------
# The cache: never unpickled before its signature checks out


class _Payload:
    """Unpickling this creates a file: the proof that a forged cache ran code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (open, (str(self.marker), "w"))


def test_a_forged_cache_never_runs_and_the_load_is_unchanged(tmp_path: Path) -> None:
    folder = data_folder(tmp_path)
    cache = tmp_path / "cache"
    first = load_records(folder, cache_dir=cache)
    cache_file = cache / FileCache.FILE_NAME
    header = json.loads(cache_file.read_bytes().split(b"\n")[1])
    marker = tmp_path / "pwned"
    evil = pickle.dumps([(_Payload(marker), (), ())] * 3)
    forged = {
        "key": header["key"],
        "shards": [[stats, len(evil), "00" * 32] for stats, _n, _mac in header["shards"]],
    }
    cache_file.write_bytes(loading.CACHE_MAGIC + json.dumps(forged).encode() + b"\n" + evil)
    (cache / "records.pickle").write_bytes(evil)  # the old format's name: never read either
    again = load_records(folder, cache_dir=cache)
    assert not marker.exists()
    assert again.records == first.records and again.problems == first.problems == []
    assert load_records(folder, cache_dir=cache).records == first.records  # re-signed, used


def test_a_shard_signed_with_another_key_is_parsed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = data_folder(tmp_path)
    cache = tmp_path / "cache"
    load_records(folder, cache_dir=cache)
    parsed: list[str] = []
    real = processing.parse_file
    monkeypatch.setattr(processing, "parse_file", lambda p: parsed.append(p.name) or real(p))
    load_records(folder, cache_dir=cache)
    assert parsed == []  # signed with this installation's key: used
    monkeypatch.setattr(loading_cache, "_secret", (loading.cache_secret_path(), b"k" * 64))
    assert sorted(r.id for r in load_records(folder, cache_dir=cache).records) == sorted(GOOD_IDS)
    assert len(parsed) == 3  # another installation's shards are not trusted


def test_the_cache_key_is_private_and_outside_the_cache(tmp_path: Path) -> None:
    folder = data_folder(tmp_path)
    load_records(folder, cache_dir=tmp_path / "cache")
    key = loading.cache_secret_path()
    assert key == tmp_path / "config" / "aop-map" / "cache-key"
    assert key.stat().st_mode & 0o777 == 0o600
    assert len(key.read_bytes()) >= loading.MIN_SECRET_BYTES
    assert not any(path.name == key.name for path in (tmp_path / "cache").rglob("*"))


def test_a_cache_folder_that_is_a_link_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = data_folder(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (folder / loading.CACHE_DIR_NAME).symlink_to(elsewhere)  # committed to a repository, say
    monkeypatch.delenv("AOP_MAP_CACHE_DIR")  # the default: .aop-cache in the data folder
    result = load_records(folder)
    assert sorted(r.id for r in result.records) == sorted(GOOD_IDS)
    assert list(elsewhere.iterdir()) == []


# ---------------------------------------------------------------------------------------------
# A broken vocabulary: one clear error naming the file, never a traceback or a server path


BROKEN_VOCABULARIES = {
    "unparsable": ("conditions:\n  - id: copd\n    label: [unclosed\n", "not valid YAML", 4),
    "not sections": ("- just a list\n", "expected sections", None),
    "not a list": ("conditions: 3\n", "section 'conditions' is not a list of terms", None),
    "no id": ("conditions:\n  - label: COPD\n", "every term needs an id", None),
    "deep": ("conditions: " + "[" * 5000 + "]" * 5000 + "\n", "nested more than 32", 1),
    "utf-16": (None, "vocabulary.yaml is UTF-16 text; save it as UTF-8", None),
}


@pytest.mark.parametrize("case", sorted(BROKEN_VOCABULARIES))
def test_a_broken_vocabulary_is_one_clear_error(case: str, tmp_path: Path) -> None:
    text, words, line = BROKEN_VOCABULARIES[case]
    folder = data_folder(tmp_path)
    path = folder / "vocabulary.yaml"
    if text is None:
        path.write_bytes(VOCABULARY.read_text("utf-8").encode("utf-16"))
    else:
        path.write_text(text, "utf-8")
    with pytest.raises(VocabularyError) as raised:
        load_vocabulary(folder)
    message = str(raised.value)
    assert message.startswith("vocabulary.yaml: ") and words in message
    assert raised.value.line == line
    assert str(tmp_path) not in message  # no server path


def test_a_vocabulary_that_is_a_link_is_refused(tmp_path: Path) -> None:
    folder = data_folder(tmp_path)
    (folder / "vocabulary.yaml").unlink()
    (folder / "vocabulary.yaml").symlink_to(VOCABULARY)
    with pytest.raises(VocabularyError, match="a symbolic link"):
        load_vocabulary(folder)


# ---------------------------------------------------------------------------------------------
# The app: hostile files beside good records


PRIVATE_VALUES = ("private-not-an-email", "PRIVATE 55 phone", "private-site.example")
SECRET_LINE = "SECRET-LINE-d41d8cd9"


def _hostile_app_folder(tmp_path: Path) -> Path:
    folder = data_folder(tmp_path)
    providers = folder / "providers"
    for name, write in [
        ("deep.yaml", _deep_flow),
        ("laughs.yaml", _billion_laughs),
        ("keys.yaml", _many_keys_small),
        ("wide.yaml", _utf16_yaml),
        ("passwd.csv", _link_to_passwd),
    ]:
        write(providers / name)
    outside = tmp_path / "outside.csv"
    outside.write_text(f"name,{SECRET_LINE}\n{SECRET_LINE},x\n", "utf-8")
    (providers / "leak.csv").symlink_to(outside)
    email, phone, website = PRIVATE_VALUES
    (providers / "private.yaml").write_text(
        textwrap.dedent(f"""\
        id: private-contact
        name: Private Contact Group
        kind: organisation
        status: established
        areas_served: [stroud]
        contact: {{email: {email}, phone: {phone}, website: {website}, name: Jo Private}}
        publish_contact: false
        """),
        "utf-8",
    )
    return folder


def _page_text(at: AppTest) -> str:
    parts = [
        str(element.value)
        for kind in (
            "title",
            "markdown",
            "caption",
            "error",
            "warning",
            "info",
            "success",
            "metric",
        )
        for element in getattr(at, kind)
    ]
    parts += [frame.value.to_string() for frame in at.dataframe]
    return "\n".join(parts)


def _open(folder: Path, monkeypatch: pytest.MonkeyPatch, page: str | None = None) -> AppTest:
    monkeypatch.setenv("AOP_MAP_DATA_DIR", str(folder))
    monkeypatch.setenv("AOP_MAP_OFFLINE", "1")
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    if page:
        at.switch_page(page).run()
    return at


def test_home_page_shows_the_good_records_beside_hostile_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _open(_hostile_app_folder(tmp_path), monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    assert at.metric[0].value == str(len(GOOD_IDS))  # the private-contact record is invalid


def test_about_page_shows_no_file_content_nor_private_contact_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _open(_hostile_app_folder(tmp_path), monkeypatch, "pages/about.py")
    assert not at.exception, [e.value for e in at.exception]
    text = _page_text(at)
    for name in ("deep.yaml", "laughs.yaml", "keys.yaml", "passwd.csv", "leak.csv", "private.yaml"):
        assert name in text  # each file is listed with its problem...
    assert "a symbolic link" in text and "contact.email" in text
    assert SECRET_LINE not in text and "root:" not in text  # ...but never its content
    for value in PRIVATE_VALUES:
        assert value not in text


def test_a_broken_vocabulary_shows_a_plain_error_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = data_folder(tmp_path)
    (folder / "vocabulary.yaml").write_text("conditions: [unclosed\n", "utf-8")
    for page in (None, "pages/about.py", "pages/directory.py"):
        at = _open(folder, monkeypatch, page)
        assert not at.exception, [e.value for e in at.exception]
        (error,) = at.error
        assert "vocabulary file is broken" in error.value and "vocabulary.yaml" in error.value
        assert str(tmp_path) not in _page_text(at)
