"""The shortlist's activity sheet as a PDF (fpdf2): text drawn as text, a vector locator map.

Takes the plain SheetEntry blocks of aop_map.shortlist and returns bytes; no Streamlit, no
network, no tiles. Black on white, so it reads the same printed in black and white.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from fpdf import FPDF

from aop_map.boundaries import BASEMAP_ATTRIBUTION, BASEMAP_DIR, DISTRICTS_FILE
from aop_map.shortlist import SheetEntry

Ring = list[tuple[float, float]]  # (lon, lat) pairs
Outlines = dict[str, list[Ring]]  # ONS district code -> its outer rings

FONT = "Helvetica"  # a PDF core font: nothing to embed, but latin-1 text only (see plain())
MARGIN_MM = 15
MAP_W_MM = 42  # the locator map's width; its height follows the county's shape
GAP_MM = 6
LABEL_W_MM = 34
LINE_H_MM = 5
TITLE_H_MM = 6.5
DOT_R_MM = 1.3
DISTRICT_FILL = 225  # grey level of the districts an activity serves (prints light)
BOUNDARIES_CREDIT = "District boundaries: " + dict(BASEMAP_ATTRIBUTION)["District boundaries"]
# Typographic characters outside latin-1 that records commonly hold, and what stands in.
REPLACEMENTS = str.maketrans(
    {
        "‘": "'",
        "’": "'",
        "‚": ",",
        "“": '"',
        "”": '"',
        "„": '"',
        "–": "-",
        "—": "-",
        "‐": "-",
        "‑": "-",
        "−": "-",
        "…": "...",
        "•": "·",
        "→": "->",
        "€": "EUR",
        "\u00a0": " ",
        "\u2009": " ",
        "\u202f": " ",
        "\u200b": "",
    }
)


def plain(text: object) -> str:
    """Text the core font can draw: typographic marks mapped, accents kept where latin-1 has
    them, other letters reduced to their base letter, anything else a '?'; no controls."""
    out = []
    for char in str(text if text is not None else "").translate(REPLACEMENTS):
        if char in "\n\t":
            out.append(" ")
        elif unicodedata.category(char).startswith("C"):
            continue
        elif ord(char) < 256:
            out.append(char)
        else:
            base = unicodedata.normalize("NFKD", char).encode("latin-1", "ignore").decode("latin-1")
            out.append("".join(c for c in base if not unicodedata.combining(c)) or "?")
    return " ".join("".join(out).split(" ")).strip()


def load_outlines(path: Path | None = None) -> Outlines:
    """The districts' outer rings from the basemap GeoJSON (mapdata/basemap)."""
    data = json.loads(Path(path or BASEMAP_DIR / DISTRICTS_FILE).read_text(encoding="utf-8"))
    outlines: Outlines = {}
    for feature in data["features"]:
        geometry = feature["geometry"]
        polygons = (
            [geometry["coordinates"]]
            if geometry["type"] == "Polygon"
            else geometry["coordinates"]
            if geometry["type"] == "MultiPolygon"
            else []
        )
        rings = [[(float(x), float(y)) for x, y, *_ in polygon[0]] for polygon in polygons]
        outlines[str(feature["properties"].get("code", len(outlines)))] = rings
    return outlines


class _Projection:
    """Lon/lat -> mm inside a box, equirectangular at the county's latitude (small area)."""

    def __init__(self, outlines: Outlines, x: float, y: float, width: float) -> None:
        points = [p for rings in outlines.values() for ring in rings for p in ring]
        self.west = min(p[0] for p in points)
        east = max(p[0] for p in points)
        self.south = min(p[1] for p in points)
        self.north = max(p[1] for p in points)
        self.k = math.cos(math.radians((self.south + self.north) / 2))
        self.scale = width / ((east - self.west) * self.k)
        self.x, self.y, self.width = x, y, width
        self.height = (self.north - self.south) * self.scale
        self.east = east

    def __call__(self, lon: float, lat: float) -> tuple[float, float]:
        return (
            self.x + (lon - self.west) * self.k * self.scale,
            self.y + (self.north - lat) * self.scale,
        )

    def contains(self, lon: float, lat: float) -> bool:
        return self.west <= lon <= self.east and self.south <= lat <= self.north


def map_height(outlines: Outlines, width: float = MAP_W_MM) -> float:
    """The locator map's height in mm for a width."""
    return _Projection(outlines, 0, 0, width).height if outlines else 0.0


# Outline points closer than this on paper add nothing but bytes and drawing time.
MIN_STEP_MM = 0.35
Sketch = list[tuple[str, list[list[tuple[float, float]]]]]  # code -> rings in mm from the corner


def sketch(outlines: Outlines, width: float = MAP_W_MM) -> Sketch:
    """The districts projected into a box of this width (mm from its top left corner), with
    points closer than MIN_STEP_MM dropped: computed once, drawn beside every block."""
    if not outlines:
        return []
    project = _Projection(outlines, 0, 0, width)
    out: Sketch = []
    for code, rings in outlines.items():
        shapes = []
        for ring in rings:
            points = [project(lon, lat) for lon, lat in ring]
            kept = [points[0]]
            for point in points[1:]:
                if math.dist(point, kept[-1]) >= MIN_STEP_MM:
                    kept.append(point)
            if len(kept) >= 3:
                shapes.append(kept)
        out.append((code, shapes))
    return out


def draw_locator(
    pdf: FPDF,
    entry: SheetEntry,
    outlines: Outlines,
    x: float,
    y: float,
    width: float = MAP_W_MM,
    drawn: Sketch | None = None,
) -> None:
    """The county's districts (the served ones shaded grey) and a black dot per venue."""
    if not outlines:
        return
    project = _Projection(outlines, x, y, width)
    pdf.set_draw_color(0)
    pdf.set_line_width(0.2)
    for code, rings in drawn if drawn is not None else sketch(outlines, width):
        served = code in entry.area_codes
        pdf.set_fill_color(DISTRICT_FILL if served else 255)
        for ring in rings:
            pdf.polygon([(x + px, y + py) for px, py in ring], style="DF" if served else "D")
    pdf.set_fill_color(0)
    pdf.set_draw_color(255)
    pdf.set_line_width(0.4)
    for lat, lon in entry.points:
        if project.contains(lon, lat):
            pdf.circle(*project(lon, lat), DOT_R_MM, style="DF")
    pdf.set_draw_color(0)
    pdf.set_line_width(0.2)


def _lines(pdf: FPDF, width: float, text: str) -> int:
    """How many lines a multi_cell of this width needs for the text (current font)."""
    return len(pdf.multi_cell(width, LINE_H_MM, text, dry_run=True, output="LINES"))


def _block_height(pdf: FPDF, entry: SheetEntry, text_w: float, map_h: float) -> float:
    pdf.set_font(FONT, "B", 13)
    height = _lines(pdf, text_w, plain(entry.title)) * TITLE_H_MM + 1.5
    pdf.set_font(FONT, "", 10)
    for _label, value in entry.rows():
        height += _lines(pdf, text_w - LABEL_W_MM, plain(value)) * LINE_H_MM + 0.8
    return max(height, map_h) + 2 * GAP_MM


def _draw_block(
    pdf: FPDF, entry: SheetEntry, outlines: Outlines, text_w: float, drawn: Sketch
) -> None:
    top = pdf.get_y()
    pdf.set_line_width(0.4)
    pdf.line(pdf.l_margin, top, pdf.w - pdf.r_margin, top)
    pdf.set_y(top + GAP_MM / 2)
    pdf.set_font(FONT, "B", 13)
    pdf.multi_cell(text_w, TITLE_H_MM, plain(entry.title), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1.5)
    for label, value in entry.rows():
        y = pdf.get_y()
        pdf.set_font(FONT, "B", 9.5)
        pdf.cell(LABEL_W_MM, LINE_H_MM, plain(label))
        pdf.set_font(FONT, "", 10)
        pdf.set_xy(pdf.l_margin + LABEL_W_MM, y)
        pdf.multi_cell(
            text_w - LABEL_W_MM, LINE_H_MM, plain(value), align="L", new_x="LMARGIN", new_y="NEXT"
        )
        pdf.ln(0.8)
    bottom = pdf.get_y()
    map_x = pdf.w - pdf.r_margin - MAP_W_MM
    draw_locator(pdf, entry, outlines, map_x, top + GAP_MM / 2, drawn=drawn)
    pdf.set_y(max(bottom, top + GAP_MM / 2 + map_height(outlines)) + GAP_MM / 2)


class _SheetPDF(FPDF):
    """A4 pages numbered at the foot ("page 2 of 3"), so a dropped pile goes back in order."""

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font(FONT, "", 8)
        self.set_text_color(0)
        self.cell(0, 4, f"Activity sheet, page {self.page_no()} of {{nb}}", align="C")


def build_pdf(
    entries: Sequence[SheetEntry],
    *,
    outlines: Outlines | None = None,
    link: str = "",
    made: dt.date | None = None,
    compress: bool = True,
) -> bytes:
    """The activity sheet: a heading, then one block per activity, never split across pages
    unless a block is longer than a page; a locator map beside each block."""
    outlines = outlines or {}
    pdf = _SheetPDF(format="A4")
    pdf.set_compression(compress)
    pdf.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
    pdf.set_auto_page_break(True, margin=MARGIN_MM)
    pdf.set_title("Activity sheet: arts and health activities")
    pdf.set_creator("aop-map")
    pdf.set_text_color(0)
    pdf.add_page()
    text_w = pdf.epw - (MAP_W_MM + GAP_MM if outlines else 0)
    pdf.set_font(FONT, "B", 18)
    pdf.cell(0, 9, "Activity sheet", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 10)
    made_on = (made or dt.date.today()).isoformat()
    intro = (
        f"Arts and health activities in Gloucestershire: {len(entries)} chosen for you, "
        f"printed {made_on}. Details change: check with the provider or your link "
        "worker before you go. 'Not stated' means the map has not been told."
    )
    pdf.multi_cell(0, LINE_H_MM, plain(intro), align="L", new_x="LMARGIN", new_y="NEXT")
    if link:
        pdf.set_font(FONT, "", 8.5)
        pdf.multi_cell(
            0, 4.5, plain(f"This list online: {link}"), align="L", new_x="LMARGIN", new_y="NEXT"
        )
    pdf.ln(3)
    map_h = map_height(outlines) if outlines else 0.0
    drawn = sketch(outlines)
    for entry in entries:
        height = _block_height(pdf, entry, text_w, map_h)
        if pdf.get_y() + height > pdf.page_break_trigger and height < pdf.eph:
            pdf.add_page()
        _draw_block(pdf, entry, outlines, text_w, drawn)
    if outlines:
        pdf.set_font(FONT, "", 7.5)
        pdf.multi_cell(0, 4, plain(BOUNDARIES_CREDIT), align="L", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def locator_svg(
    entry: SheetEntry, outlines: Outlines, drawn: Sketch | None = None, width: float = MAP_W_MM
) -> str:
    """The same locator map as SVG for the page (numbers only: no record text inside)."""
    drawn = drawn if drawn is not None else sketch(outlines, width)
    project = _Projection(outlines, 0, 0, width)
    parts = []
    for code, rings in drawn:
        fill = (
            f"rgb({DISTRICT_FILL},{DISTRICT_FILL},{DISTRICT_FILL})"
            if code in entry.area_codes
            else "white"
        )
        for ring in rings:
            points = " ".join(f"{x:.2f},{y:.2f}" for x, y in ring)
            parts.append(
                f'<polygon points="{points}" fill="{fill}" stroke="black" stroke-width="0.2"/>'
            )
    for lat, lon in entry.points:
        if project.contains(lon, lat):
            x, y = project(lon, lat)
            parts.append(
                f'<circle cx="{x:.2f}" cy="{y:.2f}" r="{DOT_R_MM}" fill="black" '
                'stroke="white" stroke-width="0.4"/>'
            )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="-1 -1 {width + 2:.2f} '
        f'{project.height + 2:.2f}">' + "".join(parts) + "</svg>"
    )
