"""mapdata YAML/CSV files -> validated records + a list of problems; no Streamlit, no network.

One bad record, row or file never stops the others, and nothing is dropped without a problem
saying where and why. Parsed files are cached on disk keyed on path + mtime + size, so a second
load of thousands of files costs a stat per file and one unpickle.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import pickle
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from aop_map.records import Problem, Record, slugify, validate_record
from aop_map.vocabulary import LIST_FIELDS, Vocabulary

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_DATA_DIR = PACKAGE_ROOT / "mapdata"
VOCABULARY_FILE = "vocabulary.yaml"
GAZETTEER_FILE = "gazetteer.csv"
# Files in a data directory that are not records, and folders that hold other state.
RESERVED_FILES = frozenset({VOCABULARY_FILE, GAZETTEER_FILE})
SKIPPED_DIRS = frozenset({"submissions"})
RECORD_SUFFIXES = (".yaml", ".yml", ".csv")
# Bump when the parsed or validated shape changes, so old caches are never trusted.
CACHE_VERSION = "3"
CACHE_DIR_NAME = ".aop-cache"

_YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def data_dir_from_env() -> Path:
    """The data directory: $AOP_MAP_DATA_DIR, else the bundled mapdata/."""
    return Path(os.environ.get("AOP_MAP_DATA_DIR") or BUNDLED_DATA_DIR)


def vocabulary_path(data_dir: Path) -> Path:
    """The vocabulary of a data directory, falling back to the bundled one."""
    own = Path(data_dir) / VOCABULARY_FILE
    return own if own.is_file() else BUNDLED_DATA_DIR / VOCABULARY_FILE


def load_vocabulary(data_dir: Path | None = None) -> Vocabulary:
    """The controlled vocabulary that applies to a data directory."""
    return Vocabulary.load(vocabulary_path(data_dir or data_dir_from_env()))


@dataclass(frozen=True)
class Origin:
    """Where a record was read from."""

    source: str
    line: int | None


@dataclass
class LoadResult:
    """Valid records, every problem found, and where each record came from."""

    records: list[Record]
    problems: list[Problem]
    origins: dict[str, Origin] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        """Problems that changed or dropped data (warnings excluded)."""
        return [p for p in self.problems if p.severity == "error"]


@dataclass(frozen=True)
class RawRecord:
    """One record as parsed from a file, before validation."""

    data: Any
    line: int | None
    field_lines: dict[str, int]


# ---------------------------------------------------------------------------------------------
# Discovering and parsing files


class FileStat(NamedTuple):
    """A record file with the modification time and size that key every cache."""

    path: Path
    mtime_ns: int
    size: int


def scan_record_files(data_dir: Path) -> list[FileStat]:
    """Every record file under a directory with its stat, in a stable order.

    One ``os.scandir`` pass: files of a folder (sorted) before its sub-folders (sorted), hidden
    and ``_``-prefixed folders and other state (submissions) skipped. A file that vanishes
    mid-scan is left out; the next scan sees the directory as it then is.
    """
    found: list[FileStat] = []
    _scan_into(os.fspath(data_dir), found)
    return found


def _scan_into(folder: str, found: list[FileStat]) -> None:
    try:
        with os.scandir(folder) as entries:
            listed = sorted(entries, key=lambda entry: entry.name)
    except OSError:
        return
    folders: list[str] = []
    for entry in listed:
        name = entry.name
        try:
            if entry.is_dir():
                if not name.startswith((".", "_")) and name not in SKIPPED_DIRS:
                    folders.append(entry.path)
                continue
            if (name.lower().endswith(RECORD_SUFFIXES) and name not in RESERVED_FILES
                    and not name.startswith(".")):
                stat = entry.stat()
                found.append(FileStat(Path(entry.path), stat.st_mtime_ns, stat.st_size))
        except OSError:
            continue
    for sub in folders:
        _scan_into(sub, found)


def find_record_files(data_dir: Path) -> list[Path]:
    """Every record file under a directory, in a stable order."""
    return [file.path for file in scan_record_files(data_dir)]


def data_signature(data_dir: Path, files: list[FileStat] | None = None) -> str:
    """Changes whenever a record file or the vocabulary is added, removed or edited."""
    data_dir = Path(data_dir)
    digest = hashlib.sha1(f"{CACHE_VERSION}\0{data_dir.resolve()}\n".encode())
    vocabulary = vocabulary_path(data_dir)
    try:
        stat = vocabulary.stat()
        digest.update(f"{vocabulary}\0{stat.st_mtime_ns}\0{stat.st_size}\n".encode())
    except OSError:
        digest.update(b"no vocabulary\n")
    for file in scan_record_files(data_dir) if files is None else files:
        digest.update(f"{file.path}\0{file.mtime_ns}\0{file.size}\n".encode())
    return digest.hexdigest()


def parse_yaml_text(text: str) -> list[RawRecord]:
    """Records from YAML text: one mapping, a list of them, or several documents.

    Node marks give each record's line and each field's line for precise messages.
    """
    loader = _YamlLoader(text)
    out: list[RawRecord] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            data = loader.construct_document(node)
            if isinstance(node, yaml.SequenceNode) and isinstance(data, list):
                out.extend(_raw(item, n) for item, n in zip(data, node.value, strict=True))
            else:
                out.append(_raw(data, node))
    finally:
        loader.dispose()
    return out


def _raw(data: Any, node: yaml.Node) -> RawRecord:
    field_lines: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key, _value in node.value:
            field_lines[str(key.value)] = key.start_mark.line + 1
    return RawRecord(data, node.start_mark.line + 1, field_lines)


def decode_bytes(raw: bytes) -> str:
    """Text from UTF-8 (with or without BOM) or, failing that, Windows-1252 as Excel saves it."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def parse_file(path: Path) -> tuple[list[RawRecord], list[Problem]]:
    """Raw records and file-level problems of one YAML or CSV file."""
    source = str(path)
    try:
        text = decode_bytes(path.read_bytes())
    except OSError as error:
        return [], [Problem(source, f"cannot read file: {error.strerror or error}")]
    if path.suffix.lower() == ".csv":
        return parse_csv_text(text, source)
    try:
        return parse_yaml_text(text), []
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(error, "problem", None) or str(error).splitlines()[0]
        return [], [Problem(source, f"not valid YAML: {reason}", line)]


# ---------------------------------------------------------------------------------------------
# CSV: one row per record, flexible headers


CSV_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "recordid", "slug"),
    "name": (
        "name",
        "organisationname",
        "organizationname",
        "providername",
        "provider",
        "activityname",
        "title",
    ),
    "kind": ("kind", "type", "providertype", "recordtype"),
    "status": ("status", "stage"),
    "summary": ("summary", "shortdescription", "strapline"),
    "description": ("description", "details", "about", "longdescription"),
    "organisation": (
        "organisation",
        "organization",
        "parentorganisation",
        "parent",
        "leadorganisation",
    ),
    "partners": ("partners", "consortium", "partnerorganisations", "partnerorganizations"),
    "art_forms": ("artforms", "artform", "arts", "artsactivity"),
    "conditions": (
        "conditions",
        "healthconditions",
        "condition",
        "healthcondition",
        "healthfocus",
        "health",
    ),
    "age_groups": ("agegroups", "agegroup", "ages", "age"),
    "areas_served": ("areasserved", "areas", "area", "districts", "coverage"),
    "delivery": ("delivery", "deliverymode", "mode"),
    "referral_routes": ("referralroutes", "referralroute", "referral", "referrals", "howtorefer"),
    "commissioning_models": (
        "commissioningmodels",
        "commissioningmodel",
        "commissioning",
        "fundingmodel",
    ),
    "postcode": ("postcode", "postcodes", "postalcode"),
    "place": ("place", "town", "village", "city", "placename", "location", "district"),
    "address": ("address", "streetaddress"),
    "location_label": ("venue", "venuename", "locationname"),
    "lat": ("lat", "latitude"),
    "lon": ("lon", "lng", "long", "longitude"),
    "website": ("website", "web", "url", "site", "webaddress"),
    "email": ("email", "emailaddress"),
    "phone": ("phone", "telephone", "tel", "phonenumber", "telephonenumber"),
    "contact_name": ("contact", "contactname", "contactperson"),
    "publish_contact": (
        "publishcontact",
        "publishcontactdetails",
        "consent",
        "consenttopublish",
        "consenttopublishcontact",
    ),
    "safeguarding_policy": ("safeguarding", "safeguardingpolicy"),
    "dbs_checks": ("dbs", "dbschecks", "dbschecked", "dbscheck"),
    "insurance": ("insurance", "publicliabilityinsurance", "insured"),
    "evaluation_frameworks": ("evaluation", "evaluationframework", "evaluationframeworks"),
    "last_verified": ("lastverified", "verified", "dateverified", "lastchecked", "verifiedon"),
    "sources": ("sources", "source", "references", "reference"),
    "notes": ("notes", "note", "comments"),
}
_HEADER_LOOKUP = {alias: column for column, aliases in CSV_ALIASES.items() for alias in aliases}
_BOOLEAN_WORDS = {
    "yes": True,
    "y": True,
    "true": True,
    "1": True,
    "x": True,
    "no": False,
    "n": False,
    "false": False,
    "0": False,
}


def normalise_header(header: str) -> str:
    """A header's matching key: lower case with spaces, '_', '-' and punctuation removed."""
    return re.sub(r"[^a-z0-9]", "", header.lower())


def parse_csv_text(text: str, source: str) -> tuple[list[RawRecord], list[Problem]]:
    """Raw records from spreadsheet text; unknown columns and blank rows are reported/skipped."""
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        return [], [Problem(source, "the file is empty", None, severity="warning")]
    header_line = next(line for line in lines if line.strip())
    delimiter = max(",;\t", key=header_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    problems: list[Problem] = []
    header: list[str] | None = None
    columns: list[str | None] = []
    out: list[RawRecord] = []
    start = 1
    try:
        for row in reader:
            line, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                header = row
                columns = _map_headers(row, source, line, problems)
                continue
            out.append(_row_to_raw(row, columns, header, line, source, problems))
    except csv.Error as error:
        problems.append(Problem(source, f"malformed CSV: {error}", reader.line_num))
    if header is not None and "name" not in columns:
        problems.append(Problem(source, "no 'name' column: every row needs a name", 1, "name"))
    return out, problems


def _map_headers(
    row: list[str], source: str, line: int, problems: list[Problem]
) -> list[str | None]:
    columns: list[str | None] = []
    for cell in row:
        column = _HEADER_LOOKUP.get(normalise_header(cell))
        if column is None and cell.strip():
            problems.append(
                Problem(
                    source,
                    f"column {cell.strip()!r} not recognised; its values are ignored",
                    line,
                    cell.strip(),
                    severity="warning",
                )
            )
        if column is not None and column in columns:
            problems.append(
                Problem(
                    source,
                    f"column {cell.strip()!r} repeats {column!r}; the first one is used",
                    line,
                    column,
                    severity="warning",
                )
            )
            column = None
        columns.append(column)
    return columns


def _row_to_raw(
    row: list[str],
    columns: list[str | None],
    header: list[str],
    line: int,
    source: str,
    problems: list[Problem],
) -> RawRecord:
    cells: dict[str, str] = {}
    for index, column in enumerate(columns):
        if column is not None and index < len(row) and row[index].strip():
            cells[column] = row[index].strip()
    if len(row) > len(header) and any(c.strip() for c in row[len(header) :]):
        problems.append(
            Problem(
                source,
                f"row has {len(row)} cells but the header has "
                f"{len(header)}; the extra cells are ignored",
                line,
            )
        )
    data = _cells_to_record(cells)
    return RawRecord(data, line, {key: line for key in data})


def split_list(
    value: str, vocabulary: Vocabulary | None = None, field: str | None = None
) -> list[str]:
    """Split a list cell on ';' (or '|'); on ',' only where the whole cell is not one term."""
    for separator in (";", "|", "\n"):
        if separator in value:
            return [part.strip() for part in value.split(separator) if part.strip()]
    if "," in value:
        whole_is_term = vocabulary is not None and field and vocabulary.find(field, value)
        if not whole_is_term:
            return [part.strip() for part in value.split(",") if part.strip()]
    return [value.strip()] if value.strip() else []


def _parse_bool(value: str) -> bool | str:
    return _BOOLEAN_WORDS.get(value.strip().lower(), value)


def _cells_to_record(cells: dict[str, str]) -> dict[str, Any]:
    """The nested record shape from flat spreadsheet cells (values still raw text)."""
    data: dict[str, Any] = {}
    for key in (
        "id",
        "name",
        "kind",
        "status",
        "summary",
        "description",
        "organisation",
        "last_verified",
        "notes",
    ):
        if key in cells:
            data[key] = cells[key]
    for key in (*LIST_FIELDS, "partners", "sources"):
        if key in cells:
            data[key] = split_list(cells[key], _CSV_VOCABULARY.get(), key)
    if "publish_contact" in cells:
        data["publish_contact"] = _parse_bool(cells["publish_contact"])
    contact = {
        k: cells[c]
        for k, c in (
            ("name", "contact_name"),
            ("website", "website"),
            ("email", "email"),
            ("phone", "phone"),
        )
        if c in cells
    }
    if contact:
        data["contact"] = contact
    readiness: dict[str, Any] = {
        k: _parse_bool(cells[k])
        for k in ("safeguarding_policy", "dbs_checks", "insurance")
        if k in cells
    }
    if "evaluation_frameworks" in cells:
        readiness["evaluation_frameworks"] = split_list(cells["evaluation_frameworks"])
    if readiness:
        data["readiness"] = readiness
    locations = _cells_to_locations(cells)
    if locations:
        data["locations"] = locations
    return data


def _cells_to_locations(cells: dict[str, str]) -> list[dict[str, Any]]:
    postcodes = split_list(cells.get("postcode", ""))
    places = split_list(cells.get("place", ""))
    if len(postcodes) > 1 and len(places) not in (0, 1, len(postcodes)):
        places = []  # cannot pair them up; the postcodes locate the record
    locations: list[dict[str, Any]] = []
    count = max(len(postcodes), len(places), 1)
    for index in range(count):
        location: dict[str, Any] = {}
        if index < len(postcodes):
            location["postcode"] = postcodes[index]
        place = places[index] if index < len(places) else (places[0] if len(places) == 1 else None)
        if place:
            location["place"] = place
        if index == 0:
            for key, target in (
                ("address", "address"),
                ("location_label", "label"),
                ("lat", "lat"),
                ("lon", "lon"),
            ):
                if key in cells:
                    location[target] = cells[key]
        if location:
            locations.append(location)
    return locations


class _VocabularyHolder:
    """The vocabulary used to tell 'Arts, crafts' (one term?) from a comma list while parsing.

    Parsing is cached per file, so it must not depend on anything but the file; the bundled
    vocabulary is stable enough for that decision and is read once.
    """

    _vocabulary: Vocabulary | None = None

    def get(self) -> Vocabulary | None:
        if self._vocabulary is None:
            try:
                self._vocabulary = Vocabulary.load(BUNDLED_DATA_DIR / VOCABULARY_FILE)
            except (OSError, ValueError, yaml.YAMLError):
                return None
        return self._vocabulary


_CSV_VOCABULARY = _VocabularyHolder()


# ---------------------------------------------------------------------------------------------
# Cache of parsed files


class ParseCache:
    """Parsed files on disk, keyed on path + mtime + size; unusable caches are ignored."""

    def __init__(self, directory: Path | None) -> None:
        self.path = directory / "parsed.pickle" if directory else None
        self.entries: dict[str, tuple[int, int, Any]] = {}
        self.dirty = False
        if self.path is not None and self.path.is_file():
            try:
                with open(self.path, "rb") as handle:
                    version, entries = pickle.load(handle)
                if version == CACHE_VERSION:
                    self.entries = entries
            except Exception:  # a corrupt or foreign cache is only a slower load
                self.entries = {}

    def get(self, path: Path, stat: os.stat_result) -> Any:
        entry = self.entries.get(str(path))
        if entry and entry[0] == stat.st_mtime_ns and entry[1] == stat.st_size:
            return entry[2]
        return None

    def put(self, path: Path, stat: os.stat_result, value: Any) -> None:
        self.entries[str(path)] = (stat.st_mtime_ns, stat.st_size, value)
        self.dirty = True

    def save(self, keep: set[str]) -> None:
        """Write the cache atomically, keeping only files that still exist."""
        if self.path is None:
            return
        stale = set(self.entries) - keep
        if not self.dirty and not stale:
            return
        for key in stale:
            del self.entries[key]
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".parsed-")
            with os.fdopen(fd, "wb") as handle:
                pickle.dump((CACHE_VERSION, self.entries), handle, pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self.path)
        except OSError:
            pass  # a read-only data directory just loads without a cache


def default_cache_dir(data_dir: Path) -> Path:
    """$AOP_MAP_CACHE_DIR, else a hidden folder inside the data directory (git-ignored)."""
    env = os.environ.get("AOP_MAP_CACHE_DIR")
    if env:
        key = hashlib.sha1(str(Path(data_dir).resolve()).encode()).hexdigest()[:12]
        return Path(env) / key
    return Path(data_dir) / CACHE_DIR_NAME


# ---------------------------------------------------------------------------------------------
# Loading a directory


def iter_raw_records(
    files: list[Path], cache: ParseCache, base: Path
) -> Iterator[tuple[str, RawRecord | None, list[Problem]]]:
    """(source name, raw record or None, file problems) for every file, parsed or cached."""
    for path in files:
        source = _display_name(path, base)
        try:
            stat = path.stat()
        except OSError as error:
            yield source, None, [Problem(source, f"cannot read file: {error}")]
            continue
        parsed = cache.get(path, stat)
        if parsed is None:
            parsed = parse_file(path)
            cache.put(path, stat, parsed)
        raws, problems = parsed
        problems = [_with_source(p, source) for p in problems]
        if not raws:
            yield source, None, problems
        for index, raw in enumerate(raws):
            yield source, raw, problems if index == 0 else []


def load_records(
    data_dir: Path | str | None = None,
    vocabulary: Vocabulary | None = None,
    *,
    use_cache: bool = True,
    cache_dir: Path | None = None,
) -> LoadResult:
    """Load and validate every record file under a directory.

    Duplicate ids keep the first copy (in path order) and report the second naming both places.
    """
    data_dir = Path(data_dir) if data_dir is not None else data_dir_from_env()
    if not data_dir.is_dir():
        return LoadResult([], [Problem(str(data_dir), "data directory not found")])
    given_vocabulary = vocabulary is not None
    vocabulary = vocabulary or load_vocabulary(data_dir)
    files = find_record_files(data_dir)
    directory = (cache_dir or default_cache_dir(data_dir)) if use_cache else None
    # The whole validated result is reusable when no file (nor the vocabulary) changed.
    signature = None if given_vocabulary else _signature(files, vocabulary_path(data_dir))
    cached = _read_result(directory, signature)
    if cached is not None:
        return cached
    cache = ParseCache(directory)
    base = data_dir.parent
    records: list[Record] = []
    problems: list[Problem] = []
    origins: dict[str, Origin] = {}
    for source, raw, file_problems in iter_raw_records(files, cache, base):
        problems.extend(file_problems)
        if raw is None:
            continue
        data = _with_default_id(raw.data)
        record, record_problems = validate_record(
            data, vocabulary, source=source, line=raw.line, field_lines=raw.field_lines
        )
        problems.extend(record_problems)
        if record is None:
            continue
        if record.id in origins:
            first = origins[record.id]
            where = first.source + (f" line {first.line}" if first.line else "")
            problems.append(
                Problem(
                    source,
                    f"duplicate id {record.id!r}: already used in {where}; this copy is ignored",
                    raw.line,
                    "id",
                    record.id,
                )
            )
            continue
        origins[record.id] = Origin(source, raw.line)
        records.append(record)
    cache.save({str(p) for p in files})
    result = LoadResult(records, problems, origins)
    _write_result(directory, signature, result)
    return result


def _signature(files: list[Path], vocabulary_file: Path) -> str | None:
    digest = hashlib.sha1(CACHE_VERSION.encode())
    try:
        for path in (vocabulary_file, *files):
            stat = path.stat()
            digest.update(f"{path}\0{stat.st_mtime_ns}\0{stat.st_size}\n".encode())
    except OSError:
        return None
    return digest.hexdigest()


def _read_result(directory: Path | None, signature: str | None) -> LoadResult | None:
    if directory is None or signature is None:
        return None
    try:
        with open(directory / "result.pickle", "rb") as handle:
            stored_signature, result = pickle.load(handle)
    except Exception:  # missing, corrupt or from another version: load from the files
        return None
    return result if stored_signature == signature else None


def _write_result(directory: Path | None, signature: str | None, result: LoadResult) -> None:
    if directory is None or signature is None:
        return
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".result-")
        with os.fdopen(fd, "wb") as handle:
            pickle.dump((signature, result), handle, pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, directory / "result.pickle")
    except OSError:
        pass


def _with_default_id(data: Any) -> Any:
    """Spreadsheets rarely carry ids: derive a stable slug from the name when missing."""
    if isinstance(data, dict) and not data.get("id") and isinstance(data.get("name"), str):
        return {**data, "id": slugify(data["name"])}
    return data


def _display_name(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)


def _with_source(problem: Problem, source: str) -> Problem:
    if problem.source == source:
        return problem
    return Problem(
        source, problem.message, problem.line, problem.field, problem.record_id, problem.severity
    )
