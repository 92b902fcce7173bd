"""Spreadsheet (CSV) -> one YAML file per record in the data directory's import folder.

Writes only files whose content changes, and only inside that folder: never the vocabulary,
the gazetteer, a curated or a community record (an id used elsewhere is a reported problem).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from aop_map.loading import load_records, load_vocabulary, parse_file
from aop_map.records import Problem, Record, slugify, validate_record

# The folder of a data directory that imports own; everything else there belongs to someone
# else (curators, moderators). Its name is a reserved record id.
IMPORT_DIR = "imported"


@dataclass
class ImportReport:
    """What an import read, wrote (or would write) and found wrong."""

    records: list[Record] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The CLI's JSON shape: records, problems, written (+ unchanged)."""
        return {
            "records": len(self.records),
            "problems": [p.as_dict() for p in self.problems],
            "written": self.written,
            "unchanged": self.unchanged,
        }


def record_to_yaml(record: Record) -> str:
    """A record as tidy YAML: schema order, defaults left out, stable for re-imports."""
    data = record.model_dump(mode="json", exclude_defaults=True)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def import_folder(data_dir: Path) -> Path:
    """Where :func:`import_csv` writes the records of a data directory."""
    return Path(data_dir) / IMPORT_DIR


def import_csv(path: Path, data_dir: Path, *, dry_run: bool = False) -> ImportReport:
    """Validate every row of a CSV and write each valid record to ``imported/<id>.yaml``.

    ``data_dir`` is the data directory: its vocabulary applies and its records own their ids.
    A row with errors, a reserved id or an id already used outside its own import file is
    reported and not written; unknown terms are reported and left out of the written record.
    Re-importing the same file writes nothing.
    """
    report = ImportReport()
    data_dir = Path(data_dir)
    if not path.is_file():
        report.problems.append(Problem(str(path), "file not found"))
        return report
    folder = import_folder(data_dir)
    refusal = _refuse_folder(data_dir, folder)
    if refusal:
        report.problems.append(refusal)
        return report
    vocabulary = load_vocabulary(data_dir)
    owners = _record_owners(data_dir)
    raws, problems = parse_file(path)
    report.problems.extend(problems)
    seen: dict[str, int | None] = {}
    for raw in raws:
        data = raw.data
        if isinstance(data, dict) and not data.get("id") and isinstance(data.get("name"), str):
            data = {**data, "id": slugify(data["name"])}
        record, record_problems = validate_record(
            data, vocabulary, source=str(path), line=raw.line, field_lines=raw.field_lines
        )
        report.problems.extend(record_problems)
        if record is None:
            continue
        target = folder / f"{record.id}.yaml"
        taken = _taken(record.id, seen, owners, target)
        if taken:
            report.problems.append(
                Problem(str(path), f"{taken}; this row is not imported", raw.line, "id", record.id)
            )
            continue
        seen[record.id] = raw.line
        report.records.append(record)
        _write_if_changed(target, record_to_yaml(record), report, dry_run)
    return report


def _refuse_folder(data_dir: Path, folder: Path) -> Problem | None:
    """Why nothing may be written (no data directory, an import folder leading elsewhere)."""
    if not data_dir.is_dir():
        return Problem(str(data_dir), "data directory not found; nothing imported")
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        return Problem(
            str(folder), "the import folder is a link or a file, not a folder; nothing imported"
        )
    return None


def _record_owners(data_dir: Path) -> dict[str, tuple[str, Path]]:
    """Every record id in the data directory: where it is (as reported) and its file."""
    owners: dict[str, tuple[str, Path]] = {}
    for record_id, origin in load_records(data_dir).origins.items():
        where = origin.source + (f" line {origin.line}" if origin.line else "")
        owners[record_id] = (where, _real(data_dir.parent / origin.source))
    return owners


def _real(path: Path) -> Path:
    """A path with its folders resolved but not the file itself (a link is its own file)."""
    return path.parent.resolve() / path.name


def _taken(
    record_id: str, seen: dict[str, int | None], owners: dict[str, tuple[str, Path]], target: Path
) -> str | None:
    """Why an id cannot be written to ``target``, or None: its own import file may change."""
    if record_id in seen:
        return f"duplicate id {record_id!r}: also on line {seen[record_id]}"
    where, owner = owners.get(record_id, ("", None))
    if owner is not None and owner != _real(target):
        return f"id {record_id!r} is already used in {where}: give the row another id"
    return None


def _write_if_changed(target: Path, text: str, report: ImportReport, dry_run: bool) -> None:
    try:
        if target.read_text(encoding="utf-8") == text:
            report.unchanged.append(str(target))
            return
    except OSError:
        pass  # a new file
    report.written.append(str(target))
    if not dry_run:
        target.parent.mkdir(parents=True, exist_ok=True)
        # A fresh temporary file (never one left lying there, which might be a link), hidden
        # from the loader by its leading dot, then renamed over the target in one step.
        handle, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
