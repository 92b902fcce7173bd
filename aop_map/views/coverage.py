"""The Coverage page's tables and notes (gaps, districts, statuses, cell links); no Streamlit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pandas as pd

from aop_map.filtering import Selection, counts_by, coverage_matrix, selection_to_params
from aop_map.text import md_escape
from aop_map.vocabulary import Vocabulary


def gaps_table(missing: dict[str, list[str]], vocabulary: Vocabulary) -> pd.DataFrame:
    """One row per district: the conditions with no provider there, and how many.

    ``missing`` is ``filtering.gaps_by_district`` for the conditions.
    """
    rows = []
    for district, terms in missing.items():
        labels = vocabulary.labels("conditions", terms)
        rows.append(
            {
                "District": vocabulary.label("areas_served", district),
                "Conditions with no provider": ", ".join(labels) or "none: every condition covered",
                "Missing": len(terms),
            }
        )
    return pd.DataFrame(rows, columns=["District", "Conditions with no provider", "Missing"])


def district_status_table(frame: pd.DataFrame, vocabulary: Vocabulary) -> pd.DataFrame:
    """Records per district (countywide providers included), in all and per status."""
    totals = counts_by(frame, vocabulary, "district")
    per_status = coverage_matrix(frame, vocabulary, "district", "status")
    statuses = vocabulary.terms("status")
    rows = [
        {
            "District": t.label,
            "Records": int(totals.get(t.id, 0)),
            **{s.label: int(per_status.at[t.id, s.id]) for s in statuses},
        }
        for t in vocabulary.terms("areas_served")
        if t.code
    ]
    return pd.DataFrame(rows, columns=["District", "Records", *(s.label for s in statuses)])


def district_labels(vocabulary: Vocabulary) -> dict[str, str]:
    """District term id -> label, for the districts of the county (terms with a code)."""
    return {t.id: t.label for t in vocabulary.terms("areas_served") if t.code}


def gap_district_index(chosen: Sequence[str], districts: Sequence[str]) -> int:
    """Which district the gaps box opens on: the first of the sidebar's districts that is one
    of ``districts``, else the first district."""
    picked = [d for d in chosen if d in districts]
    return list(districts).index(picked[0]) if picked else 0


def gap_note(
    missing: dict[str, list[str]], district: str, vocabulary: Vocabulary
) -> tuple[bool, str]:
    """(whether a gap is found, escaped Markdown saying so) for one district of
    ``filtering.gaps_by_district``."""
    where = md_escape(vocabulary.label("areas_served", district))
    if missing[district]:
        labels = ", ".join(vocabulary.labels("conditions", missing[district]))
        return True, f"**No provider in {where} for:** " + md_escape(labels)
    return False, f"Every health condition has at least one provider in {where}."


def county_gaps_note(county_gaps: Sequence[str], vocabulary: Vocabulary) -> str | None:
    """The conditions no provider anywhere covers (``filtering.gaps``), escaped; else None."""
    if not county_gaps:
        return None
    labels = ", ".join(vocabulary.labels("conditions", county_gaps))
    return "No provider anywhere in the data for: " + md_escape(labels)


def cell_link(
    matrix: pd.DataFrame, selection: Selection, condition: str, art_form: str
) -> tuple[str, dict[str, list[str] | str]]:
    """The label and query parameters of the link opening the map filtered to one cell of
    ``filtering.coverage_matrix``: the current selection narrowed to that pair."""
    target = replace(selection, condition=(condition,), art_form=(art_form,))
    label = f"Open the map ({int(matrix.loc[condition, art_form])})"
    return label, selection_to_params(target)


def labelled_matrix(
    matrix: pd.DataFrame, row_labels: dict[str, str], col_labels: dict[str, str]
) -> pd.DataFrame:
    """A coverage matrix with labels for people on both axes (rows named "Condition")."""
    return matrix.rename(index=row_labels, columns=col_labels).rename_axis("Condition")


def status_line(frame: pd.DataFrame, vocabulary: Vocabulary, *, include_past: bool) -> str:
    """Records per status as escaped Markdown ("By status: **Established** 3 · ..."); ended
    only when past activity is included."""
    statuses = counts_by(frame, vocabulary, "status")
    return "By status: " + " · ".join(
        f"**{md_escape(t.label)}** {int(statuses.get(t.id, 0))}"
        for t in vocabulary.terms("status")
        if t.id != "ended" or include_past
    )


def empty_districts_note(spread: pd.DataFrame) -> str | None:
    """The districts of ``district_status_table`` with no record at all, escaped; else None."""
    empty = spread.loc[spread["Records"] == 0, "District"].tolist()
    return "No provision at all in: " + md_escape(", ".join(empty)) if empty else None
