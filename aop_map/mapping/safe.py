"""Escaping and literal page elements: user text reaches the page as a value, never as
template source; nothing here knows about records or layers.

Escaping, twice over: the payload is JSON with ``<``, ``>``, ``&`` and U+2028/9 written as
``\\uXXXX`` so no text can close the ``<script>`` it sits in, and popups and tooltips pass
every string through an HTML-escaping function in JavaScript before it becomes markup.

Never a template: branca renders each element's macros, then wraps the *output* in a new
``Element(output)`` -- a Jinja template -- which the page render evaluates again, so text such
as ``{{ ... }}`` in a record would run on the server and ``{%`` or ``{#`` would break the page.
Every element in ``aop_map.mapping`` that carries record text is a ``LiteralMacro``: its
rendered output goes into the page as a ``Literal``, which is never compiled. folium's own
elements (tiles, circles, fit-bounds, layer control) only ever get numbers and the package's
fixed strings.
"""

from __future__ import annotations

import json
from typing import Any

from branca.element import Element, Figure, MacroElement


def safe_json(value: Any) -> str:
    """JSON that is safe inside an HTML <script>: no '</script>', '<!--', '&' or line breaks.

    ``'`` is written as ``\\u0027`` as well: streamlit-folium rewrites ``{{'name'}}`` in a
    map's script into a bare name, which would change a record's text that looked like it.
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for raw, escaped in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("'", "\\u0027"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(raw, escaped)
    return text


def html_text(value: Any) -> str:
    """Text made safe for HTML, and for the JS template literals folium wraps tooltips in.

    Besides ``& < > " '`` this writes `` ` ``, ``$`` and ``\\`` as character references: inside
    a template literal they would end it, start ``${...}`` or start an escape.
    """
    text = "" if value is None else str(value)
    for raw, escaped in (
        ("&", "&amp;"),
        ("<", "&lt;"),
        (">", "&gt;"),
        ('"', "&quot;"),
        ("'", "&#39;"),
        ("`", "&#96;"),
        ("$", "&#36;"),
        ("\\", "&#92;"),
    ):
        text = text.replace(raw, escaped)
    return text


class Literal(Element):
    """Text already rendered, placed in the page as it is: never compiled as a template."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "Literal"
        self.text = text

    def render(self, **kwargs: Any) -> str:
        return self.text


class LiteralMacro(MacroElement):
    """A MacroElement whose rendered header, html and script reach the page as ``Literal``s.

    branca's ``MacroElement.render`` adds ``Element(rendered)``: the rendered text becomes the
    source of a new template, evaluated when the page renders. Here the template is only ever
    this class's own fixed ``_template``; the values it renders (record text among them) stay
    values. Listed after folium's classes in a subclass's bases, so their ``render`` (adding
    links, the add-to-map call) runs first and ends here instead of in ``MacroElement``.
    """

    def render(self, **kwargs: Any) -> None:
        figure = self.get_root()
        if not isinstance(figure, Figure):
            raise TypeError(f"{type(self).__name__} can only render inside a Figure")
        for part in ("header", "html", "script"):
            macro = self._template.module.__dict__.get(part)
            if macro is not None:
                getattr(figure, part).add_child(Literal(macro(self, kwargs)), name=self.get_name())
        for element in self._children.values():
            element.render(**kwargs)


# HTML-escaping in the browser: every string from a payload passes through esc() before it
# becomes markup (popups and tooltips are HTML).
JS_ESCAPE = """
  var ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"};
  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) { return ESCAPES[c]; });
  }"""
