"""Spreadsheet (CSV) -> one YAML file per record; writes only files whose content changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from aop_map.loading import load_vocabulary, parse_file
from aop_map.records import Problem, Record, slugify, validate_record


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


def import_csv(path: Path, into: Path, *, dry_run: bool = False) -> ImportReport:
    """Validate every row of a CSV and write each valid record to ``into/<id>.yaml``.

    A row with errors is reported and not written; unknown terms are reported and left out
    of the written record. Re-importing the same file writes nothing.
    """
    report = ImportReport()
    if not path.is_file():
        report.problems.append(Problem(str(path), "file not found"))
        return report
    vocabulary = load_vocabulary(into if into.is_dir() else None)
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
        if record.id in seen:
            report.problems.append(
                Problem(
                    str(path),
                    f"duplicate id {record.id!r}: also on line {seen[record.id]}; "
                    "this row is not imported",
                    raw.line,
                    "id",
                    record.id,
                )
            )
            continue
        seen[record.id] = raw.line
        report.records.append(record)
        _write_if_changed(into / f"{record.id}.yaml", record_to_yaml(record), report, dry_run)
    return report


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
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(target)
