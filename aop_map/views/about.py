"""The About page's data-quality tables (kinds, precision, problems, unlocated); no Streamlit."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd

from aop_map.loading import Origin
from aop_map.records import Problem, Record
from aop_map.vocabulary import Vocabulary

PRECISION_LABELS = {
    "exact": "Exact point",
    "postcode": "Full postcode",
    "postcode_district": "Postcode district centre",
    "place": "Town or village",
    "online": "Online geocoder",
    "none": "Not placed",
}


PROBLEM_COLUMNS = ["File", "Line", "Field", "Record", "Severity", "Problem"]


def kind_status_table(records: Iterable[Record], vocabulary: Vocabulary) -> pd.DataFrame:
    """Records counted by kind (rows) and status (columns), with totals; empty without any."""
    kinds = pd.DataFrame(
        [
            {
                "Kind": vocabulary.label("kind", r.kind),
                "Status": vocabulary.label("status", r.status),
            }
            for r in records
        ],
        columns=["Kind", "Status"],
    )
    if kinds.empty:
        return kinds
    return pd.crosstab(kinds["Kind"], kinds["Status"], margins=True, margins_name="Total")


def precision_counts(frame: pd.DataFrame) -> pd.Series:
    """Locations counted by how precisely they are placed, labelled for people."""
    labels = frame["location_precision"].map(lambda p: PRECISION_LABELS.get(p, p))
    return labels.value_counts().rename("Locations").rename_axis("Placed by")


def problems_table(problems: Sequence[Problem]) -> pd.DataFrame:
    """Loading and geocoding problems, one row each."""
    return pd.DataFrame(
        [
            {
                "File": p.source,
                "Line": p.line,
                "Field": p.field,
                "Record": p.record_id,
                "Severity": p.severity,
                "Problem": p.message,
            }
            for p in problems
        ],
        columns=PROBLEM_COLUMNS,
    )


def unlocated_table(
    records: Sequence[Record],
    problems: Sequence[Problem],
    origins: dict[str, Origin],
    vocabulary: Vocabulary,
) -> pd.DataFrame:
    """Records with no point on the map: where each is defined, what it serves, and why."""
    reasons: dict[str, list[str]] = {}
    for problem in problems:
        if problem.record_id and (problem.field or "").startswith("locations"):
            reasons.setdefault(problem.record_id, []).append(problem.message)
    rows = []
    for r in records:
        origin = origins.get(r.id)
        why = "; ".join(reasons.get(r.id, [])) or (
            "its location could not be found"
            if r.locations
            else "no location given: listed by the areas it serves"
        )
        rows.append(
            {
                "Record": r.name,
                "Id": r.id,
                "File": origin.source if origin else "",
                "Line": origin.line if origin else None,
                "Areas served": ", ".join(vocabulary.labels("areas_served", r.areas_served)),
                "Why": why,
            }
        )
    return pd.DataFrame(rows, columns=["Record", "Id", "File", "Line", "Areas served", "Why"])
