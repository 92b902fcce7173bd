"""The map's legend and the folding of legends and layer control on a narrow map: fixed text
only, never record data.
"""

from __future__ import annotations

from typing import Any

import folium
from jinja2 import Template

from aop_map.mapping.safe import LiteralMacro, safe_json
from aop_map.mapping.style import ENERGY_GRADIENT, FOCUS_RING, STATUS_ORDER, STATUS_STYLE

# Below this map width (px, a phone) the layer control starts folded and the legends closed:
# open, they cover the zoom buttons and about a third of the map.
NARROW_MAP_PX = 600


# A legend that folds: a real button (keyboard operable, aria-expanded) above its body, open
# unless the map is narrow. Fixed text only; `label` is a fixed string in a caller's template.
COLLAPSIBLE_JS = """
  function aopCollapsible(map, div, label, narrowPx) {
    var button = L.DomUtil.create("button", "aop-toggle", div), shown = true;
    if (div.insertBefore) { div.insertBefore(button, div.firstChild); }
    button.type = "button";
    function set(open) {
      shown = open;
      button.setAttribute("aria-expanded", open ? "true" : "false");
      button.textContent = (open ? "Hide " : "Show ") + label;
      // Leaflet adds its own classes to a control after onAdd: change only ours.
      div.className = div.className.replace(/ ?aop-folded/g, "") + (open ? "" : " aop-folded");
    }
    button.onclick = function (e) {
      e.preventDefault();
      e.stopPropagation();
      set(!shown);
    };
    set(map.getSize().x >= narrowPx);
  }"""
TOGGLE_CSS = (
    ".aop-toggle{display:block;font:600 12px/1.6 sans-serif;color:#003f63;background:none;"
    "border:0;padding:0;margin:0;cursor:pointer;text-decoration:underline}"
    f".aop-toggle:focus-visible{{{FOCUS_RING}}}"
    ".aop-folded>:not(.aop-toggle){display:none}.aop-folded{width:auto!important}"
)


class Legend(LiteralMacro):
    """The legend, as a Leaflet control inside the map: words and shapes, not colour alone."""

    _template = Template("""
{% macro header(this, kwargs) %}
<style>
.aop-legend{background:rgba(255,255,255,.94);padding:6px 10px;border-radius:4px;
 font:12px/1.6 sans-serif;color:#1a1a1a;box-shadow:0 1px 4px rgba(0,0,0,.3);max-width:230px}
.aop-legend i{display:inline-block;vertical-align:middle;margin-right:6px;border-radius:50%}
.aop-legend .aop-bar{width:60px;height:9px;border-radius:2px}
{{ this.toggle_css }}
</style>
{% endmacro %}
{% macro script(this, kwargs) %}
(function (map) {
  {{ this.collapsible_js }}
  var legend = L.control({position: "bottomleft"});
  legend.onAdd = function () {
    var div = L.DomUtil.create("div", "aop-legend");
    div.setAttribute("role", "region");
    div.setAttribute("aria-label", "Map legend");
    div.innerHTML = '<div class="aop-body">' + {{ this.markup }} + "</div>";
    aopCollapsible(map, div, "legend", {{ this.narrow_px }});
    L.DomEvent.disableClickPropagation(div);
    return div;
  };
  legend.addTo(map);
})({{ this._parent.get_name() }});
{% endmacro %}
""")

    def __init__(self, *, energy: bool = True, tiles: bool = True) -> None:
        super().__init__()
        self._name = "Legend"
        self.markup = safe_json(legend_markup(energy=energy, tiles=tiles))
        self.collapsible_js, self.toggle_css = COLLAPSIBLE_JS, TOGGLE_CSS
        self.narrow_px = NARROW_MAP_PX


class FoldOnNarrow(LiteralMacro):
    """Folds the layer control on a narrow map (a phone), where open it would cover the zoom
    buttons; it then opens on a tap or on keyboard focus (Leaflet's own folded control)."""

    _template = Template("""
{% macro script(this, kwargs) %}
(function (map, control) {
  if (map.getSize().x >= {{ this.narrow_px }}) { return; }
  control.remove();
  control.options.collapsed = true;
  control.addTo(map);
})({{ this._parent.get_name() }}, {{ this.control }});
{% endmacro %}
""")

    def __init__(self, control: folium.LayerControl) -> None:
        super().__init__()
        self._name = "FoldOnNarrow"
        self.control = control.get_name()  # a generated identifier, never text from data
        self.narrow_px = NARROW_MAP_PX


def _swatch(style: dict[str, Any]) -> str:
    size = 2 * style["radius"] - 2
    border = "dashed" if style.get("dashArray") else "solid"
    return (
        f'<i style="width:{size}px;height:{size}px;background:{style["fillColor"]};'
        f'border:2px {border} {style["color"]}"></i>'
    )


def legend_markup(*, energy: bool = True, tiles: bool = True) -> str:
    """The legend's HTML (fixed text: no user data ever goes in here)."""
    established, emerging, ended = (STATUS_STYLE[s] for s in STATUS_ORDER)
    pie = (
        f"background:conic-gradient({emerging['fillColor']} 0 30%, "
        f"{established['fillColor']} 30% 100%)"
    )
    stops = ", ".join(f"{c} {float(k) * 100:.0f}%" for k, c in ENERGY_GRADIENT.items())
    lines = [
        "<strong>Status</strong>",
        f"{_swatch(established)}Established (running, commissioned)",
        f"{_swatch(emerging)}Emerging (new, pilot; dashed)",
        f"{_swatch(ended)}Ended (past activity, when included; grey, dotted)",
        f'<i style="width:14px;height:14px;{pie}"></i>Group: number of places, '
        "orange share emerging",
    ]
    if energy:
        lines.append(
            f'<i class="aop-bar" style="background:linear-gradient(90deg, {stops})"></i>'
            "Energy: more activity, lighter (emerging counts half)"
        )
    if not tiles:
        lines.append("<em>No background tiles (offline)</em>")
    return "<br>".join(lines)
