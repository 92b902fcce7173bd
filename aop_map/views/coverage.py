"""The Coverage page's tables and notes: gaps per district and records per district and
status. Plain frames and escaped Markdown out; no Streamlit."""

from __future__ import annotations

import pandas as pd

from aop_map.filtering import counts_by, coverage_matrix
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
