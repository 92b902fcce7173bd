"""Helpers for the map tests (test_mapping, test_mapping_basemap): hostile names, rendering a
map, finding its elements and the template sources the page render evaluates."""

from __future__ import annotations

import geopandas as gpd

from aop_map.mapping import Literal
from tests.frames import make_frame

XSS = "<img src=x onerror=alert(1)>"
BREAKOUT = "</script><script>alert(2)</script>"
TEMPLATE = "`${alert(3)}`\\u"  # ends a JS template literal, interpolates, bad escape
NASTY = [XSS, BREAKOUT, TEMPLATE, 'Tom & Jerry\'s "choir"', "line\u2028break"]


def render(m) -> str:
    return m.get_root().render()


def child(m, kind: type):
    return next(c for c in m._children.values() if isinstance(c, kind))


def template_sources(m) -> list[str]:
    """The source of every template the page render will evaluate, after rendering: every
    element's own template in the map's tree and in the figure's header, html and script."""
    root = m.get_root()
    sources, seen, todo = [], set(), [root, root.header, root.html, root.script, m]
    while todo:
        element = todo.pop()
        if id(element) in seen or isinstance(element, Literal):
            continue
        seen.add(id(element))
        template = getattr(element, "_template", None)
        if template is not None:
            sources.append(element._template_str or "")
        todo.extend(element._children.values())
    return sources


def location_frame(name: str) -> gpd.GeoDataFrame:
    return make_frame(
        [
            {"record_id": "a", "name": name, "lat": 51.8, "lon": -2.2, "location_label": name},
            {
                "record_id": "a",
                "name": name,
                "lat": 51.7,
                "lon": -2.1,
                "location_index": 1,
                "status": "emerging",
            },
            {"record_id": "a", "name": name, "location_index": 2},  # not located
        ]
    )
