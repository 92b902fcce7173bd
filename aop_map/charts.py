"""Altair charts for the pages: built from plain frames and returned, never drawn here.

A chart is a description (a Vega-Lite spec), so tests check what it says with ``to_dict()``.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

# Height of one matrix row in pixels, and room for the axis labels below the last one.
ROW_HEIGHT_PX = 28
AXIS_ROOM_PX = 60
# Cells counting more records than this are dark enough to need white numbers.
DARK_CELL = 2
CELL_SELECTION = "cell"  # the name st.altair_chart reports a clicked cell under


def coverage_heatmap(
    matrix: pd.DataFrame, row_labels: dict[str, str], col_labels: dict[str, str]
) -> alt.LayerChart:
    """Records per (condition, art form) as shaded, numbered cells; a click selects a cell.

    ``matrix`` is ``filtering.coverage_matrix`` (term ids on both axes); the labels give the
    axes their names and order. A selected cell's point carries ``condition`` and ``art_form``
    (term ids), under the selection named CELL_SELECTION.
    """
    long = matrix.stack().reset_index()
    long.columns = ["condition", "art_form", "records"]
    long["Condition"] = long["condition"].map(row_labels)
    long["Art form"] = long["art_form"].map(col_labels)
    cell = alt.selection_point(name=CELL_SELECTION, fields=["condition", "art_form"])
    base = alt.Chart(long).encode(
        x=alt.X(
            "Art form:N",
            sort=list(col_labels.values()),
            title=None,
            axis=alt.Axis(labelAngle=-40, labelOverlap=False, labelLimit=180),
        ),
        y=alt.Y(
            "Condition:N",
            sort=list(row_labels.values()),
            title=None,
            axis=alt.Axis(labelOverlap=False, labelLimit=260),
        ),
    )
    shades = base.mark_rect(stroke="#ffffff").encode(
        color=alt.Color("records:Q", scale=alt.Scale(scheme="blues"), title="Records"),
        tooltip=["Condition", "Art form", alt.Tooltip("records:Q", title="Records")],
    )
    numbers = base.mark_text(fontSize=11).encode(
        text=alt.condition("datum.records > 0", "records:Q", alt.value("")),
        color=alt.condition(
            f"datum.records > {DARK_CELL}", alt.value("white"), alt.value("#222222")
        ),
    )
    height = ROW_HEIGHT_PX * len(row_labels) + AXIS_ROOM_PX
    return (shades.add_params(cell) + numbers).properties(height=height)


def clicked_cell(event: object) -> tuple[str, str] | None:
    """(condition, art form) of the cell a click on ``coverage_heatmap`` selected, or None.

    ``event`` is what ``st.altair_chart(..., on_select="rerun")`` returned.
    """
    selection = getattr(event, "selection", None) or {}
    points = selection.get(CELL_SELECTION) if hasattr(selection, "get") else None
    if not points:
        return None
    return points[0]["condition"], points[0]["art_form"]


def shade_cells(table: pd.DataFrame, rgb: str = "0, 114, 178") -> pd.io.formats.style.Styler:
    """A count table styled like the heatmap: darker for more, grey for none."""
    top = max(int(table.to_numpy().max()) if table.size else 0, 1)

    def style(value: int) -> str:
        if not value:
            return "color: #999999"
        return f"background-color: rgba({rgb}, {0.08 + 0.6 * value / top:.2f})"

    return table.style.map(style)
