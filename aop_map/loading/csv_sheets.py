"""CSV sheets -> raw records (flexible headers, list cells, locations); never validates them."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import yaml

from aop_map import fields
from aop_map.loading.files import BUNDLED_DATA_DIR, VOCABULARY_FILE
from aop_map.reading import MAX_CSV_COLUMNS, MAX_CSV_ROWS, RawRecord
from aop_map.records import Problem, excerpt
from aop_map.text import normalise
from aop_map.vocabulary import Vocabulary

# Header spellings are declared with each field (aop_map.fields: csv_aliases), normalised as
# normalise_header makes them; fields.csv_headers() is the lookup, read for each file.
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
    """A header's matching key: text.normalise with no separator ("Art forms" -> "artforms")."""
    return normalise(header, "")


def parse_csv_text(text: str, source: str) -> tuple[list[RawRecord], list[Problem]]:
    """Raw records from spreadsheet text; unknown columns and blank rows are reported/skipped.

    A sheet of more than ``MAX_CSV_ROWS`` rows or ``MAX_CSV_COLUMNS`` cells in a row is
    refused with one problem (no records), found while reading, before any record is built
    from it. Cells are limited by the csv module's field size limit (128 KiB unless raised).
    """
    header_line = _first_filled_line(text)
    if header_line is None:
        return [], [Problem(source, "the file is empty", None, severity="warning")]
    delimiter = max(",;\t", key=header_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    problems: list[Problem] = []
    header: list[str] | None = None
    columns: list[str | None] = []
    rows: list[tuple[list[str], int]] = []
    start = 1
    malformed: Problem | None = None
    try:
        for count, row in enumerate(reader, 1):
            line, start = start, reader.line_num + 1
            if count > MAX_CSV_ROWS or len(row) > MAX_CSV_COLUMNS:
                return [], [_csv_refusal(source, count, len(row), line)]
            if any(cell.strip() for cell in row):
                rows.append((row, line))
    except csv.Error as error:  # the rows before it still count
        malformed = Problem(source, f"malformed CSV: {error}", reader.line_num)
    out: list[RawRecord] = []
    for row, line in rows:
        if header is None:
            header = row
            columns = _map_headers(row, source, line, problems)
        else:
            out.append(_row_to_raw(row, columns, header, line, source, problems))
    if malformed is not None:
        problems.append(malformed)
    if header is not None and "name" not in columns:
        problems.append(Problem(source, "no 'name' column: every row needs a name", 1, "name"))
    return out, problems


def _first_filled_line(text: str) -> str | None:
    for match in re.finditer(r"[^\r\n]+", text):
        if match.group().strip():
            return match.group()
    return None


def _csv_refusal(source: str, rows: int, cells: int, line: int) -> Problem:
    if rows > MAX_CSV_ROWS:
        why = f"more than {MAX_CSV_ROWS:,} rows (split it into several files)"
    else:
        why = f"a row of {cells:,} cells, more than the {MAX_CSV_COLUMNS} a record sheet has"
    return Problem(source, f"refused: {why}", line)


def _map_headers(
    row: list[str], source: str, line: int, problems: list[Problem]
) -> list[str | None]:
    columns: list[str | None] = []
    headers = fields.csv_headers()
    for cell in row:
        column = headers.get(normalise_header(cell))
        if column is None and cell.strip():
            problems.append(
                Problem(
                    source,
                    f"column {excerpt(cell.strip())} not recognised; its values are ignored",
                    line,
                    excerpt(cell.strip(), quote=False),
                    severity="warning",
                )
            )
        if column is not None and column in columns:
            problems.append(
                Problem(
                    source,
                    f"column {excerpt(cell.strip())} repeats {column!r}; the first one is used",
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
        # The whole cell may be one term ("Arts, crafts"); not in a field this vocabulary has
        # no section for (one just added to the registry).
        whole_is_term = (
            vocabulary is not None
            and field is not None
            and vocabulary.section(field) in vocabulary.sections
            and vocabulary.find(field, value)
        )
        if not whole_is_term:
            return [part.strip() for part in value.split(",") if part.strip()]
    return [value.strip()] if value.strip() else []


def _parse_bool(value: str) -> bool | str:
    return _BOOLEAN_WORDS.get(value.strip().lower(), value)


def _csv_plan() -> dict[str, tuple[str, str, bool, bool, bool]]:
    """Field name -> (part, attribute, is a list, is controlled, is yes/no) of every field
    outside the locations, from the registry as it is now (built once per registry)."""
    return fields.remember(
        "loading.csv_plan",
        lambda: {
            spec.name: (
                spec.group,
                spec.attribute,
                spec.many,
                spec.controlled,
                spec.datatype == "bool",
            )
            for spec in fields.all_fields()
            if spec.group != "locations"
        },
    )


def _cells_to_record(cells: dict[str, str]) -> dict[str, Any]:
    """The nested record shape from flat spreadsheet cells (values still raw text).

    Each field goes to its place in the record (``contact.email``); list cells are split,
    yes/no words read. Location columns make the ``locations`` list.
    """
    data: dict[str, Any] = {}
    plan = _csv_plan()
    for name, cell in cells.items():  # cells are keyed by field name (fields.csv_headers)
        if name not in plan:
            continue  # a location column
        group, attribute, many, controlled, yes_no = plan[name]
        value: Any = cell
        if many:
            value = split_list(value, _CSV_VOCABULARY.get() if controlled else None, name)
        elif yes_no:
            value = _parse_bool(value)
        if group:
            data.setdefault(group, {})[attribute] = value
        else:
            data[name] = value
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
        if index == 0:  # the venue, address, lat and lon columns describe the first location
            location.update(
                {
                    spec.attribute: cells[spec.name]
                    for spec in fields.location_fields()
                    if spec.name in cells and spec.name not in ("postcode", "place")
                }
            )
        if location:
            locations.append(location)
    return locations


class _VocabularyHolder:
    """The vocabulary used to tell 'Arts, crafts' (one term?) from a comma list while parsing.

    Parsing is cached per file, so it must not depend on anything but the file; the bundled
    vocabulary is stable enough for that decision and is read once.
    """

    _vocabulary: Vocabulary | None = None
    _failed = False  # tried once and failed: not tried again for every cell

    def get(self) -> Vocabulary | None:
        if self._vocabulary is None and not self._failed:
            try:
                self._vocabulary = Vocabulary.load(BUNDLED_DATA_DIR / VOCABULARY_FILE)
            except (OSError, ValueError, yaml.YAMLError):
                self._failed = True
        return self._vocabulary


_CSV_VOCABULARY = _VocabularyHolder()
