"""GeoDataFrame -> folium.Map; returns the map, never renders, saves or displays it.

The modules, each importing only those listed above it:

- ``style``: marker styles by status, the energy colours, zoom limits (constants only);
- ``safe``: ``safe_json``, ``html_text``, ``Literal``, ``LiteralMacro``: how text reaches the
  page as a value, never as template source (read this before adding an element);
- ``payload``: records -> the compact JSON payload the browser builds markers from;
- ``legend``: the legend, and folding legends and layer control on a narrow map;
- ``layers``: clustered provider markers, the energy (heat) layer, a record's location points;
- ``basemap``: background, tiles, panes, county and district boundaries;
- ``labels``: district and place names;
- ``choropleth``: districts coloured by activity (counted by ``aop_map.energy``);
- ``build``: ``build_map`` and ``build_location_map``, which assemble them and fit the view.
"""

from aop_map.mapping.basemap import OSM_ATTRIBUTION, OSM_TILES, BaseMap
from aop_map.mapping.build import GLOS_BOUNDS, MAX_FIT_ZOOM, build_location_map, build_map
from aop_map.mapping.choropleth import (
    ActivityLayer,
    activity_colours,
    activity_legend,
    district_classes,
)
from aop_map.mapping.labels import NameLabels, label_css, label_payload
from aop_map.mapping.layers import (
    EnergyLayer,
    LocationPoints,
    ProviderLayer,
    check_link_template,
)
from aop_map.mapping.legend import FoldOnNarrow, Legend, legend_markup
from aop_map.mapping.payload import compact_payload, record_notes, spatial_order
from aop_map.mapping.safe import Literal, LiteralMacro, html_text, safe_json
from aop_map.mapping.style import MAX_ZOOM, STATUS_ORDER, STATUS_STYLE

__all__ = [
    "GLOS_BOUNDS",
    "MAX_FIT_ZOOM",
    "MAX_ZOOM",
    "OSM_ATTRIBUTION",
    "OSM_TILES",
    "STATUS_ORDER",
    "STATUS_STYLE",
    "ActivityLayer",
    "BaseMap",
    "EnergyLayer",
    "FoldOnNarrow",
    "Legend",
    "Literal",
    "LiteralMacro",
    "LocationPoints",
    "NameLabels",
    "ProviderLayer",
    "activity_colours",
    "activity_legend",
    "build_location_map",
    "build_map",
    "check_link_template",
    "compact_payload",
    "district_classes",
    "html_text",
    "label_css",
    "label_payload",
    "legend_markup",
    "record_notes",
    "safe_json",
    "spatial_order",
]
