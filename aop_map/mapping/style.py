"""The map's shared look and limits (marker styles by status, energy colours, zoom limits,
coordinate precision): constants only, no drawing and no data.
"""

from __future__ import annotations

from typing import Any

# Okabe-Ito blue and orange stay distinct for the common colour-vision deficiencies; emerging
# markers are also smaller with a dashed outline, and the legend and popups say it in words.
# Ended activity (shown only when asked for) is grey, pale, small and dotted: told apart by
# lightness and outline, not hue, and its popup says "ended 2019".
STATUS_ORDER = ("established", "emerging", "ended")
STATUS_STYLE: dict[str, dict[str, Any]] = {
    "established": {"color": "#003f63", "fillColor": "#0072B2", "radius": 8, "weight": 2},
    "emerging": {
        "color": "#6b4500",
        "fillColor": "#E69F00",
        "radius": 7,
        "weight": 2,
        "dashArray": "3 2",
    },
    "ended": {
        "color": "#4d4d4d",
        "fillColor": "#bdbdbd",
        "fillOpacity": 0.55,
        "radius": 6,
        "weight": 1.5,
        "dashArray": "1 3",
    },
}
# Magma: perceptually even and readable with any colour vision; leaflet.heat's default runs
# blue-green-red, the pair most people with colour-blindness cannot tell apart.
ENERGY_GRADIENT = {
    "0.2": "#3b0f70",
    "0.45": "#8c2981",
    "0.7": "#de4968",
    "0.9": "#fe9f6d",
    "1.0": "#fcfdbf",
}
# The map's own zoom limits: without tiles nothing else sets them, and markercluster builds
# its clusters for every level between them (zoom 5 shows all of Great Britain).
MAX_ZOOM = 19
MIN_ZOOM = 5
COORD_DECIMALS = 5  # ~1 m: finer than any postcode centroid, and 2 bytes a point cheaper
# The keyboard focus ring inside the map (markers, clusters, popups, legend toggles): the app
# page's own (aop_map.ui.layout's LAYOUT_CSS), so focus looks the same in and out of the map.
FOCUS_RING = "outline:3px solid #0072B2;outline-offset:2px"
