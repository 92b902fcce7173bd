"""Folium's JavaScript and CSS from local copies instead of CDNs, so maps work with no network.

The copies come from the PyPI package ``folium-offline`` (``offlinefolium.elements._res`` maps
each CDN address folium 0.20 uses to the file's text). ``localise_assets`` (Streamlit, and
standalone HTML opened on this machine) points every element's ``default_js``/``default_css`` at
a copy written once into ``static/vendor/`` beside ``app.py``. Streamlit serves that folder at
``/app/static/vendor/`` when ``server.enableStaticServing`` is on (``.streamlit/config.toml``).
streamlit-folium reads those same attributes (its ``js_links``/``css_links``) and loads each
script in its iframe in order; one script that fails to load stops the whole map, which is why
a single CDN link left over means a blank map offline.

Leaflet's default marker images are data URIs inside folium-offline's ``leaflet.js``; tiles
(aop_map.mapping adds them) are the one thing that still needs a network, and simply stay blank
without one.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import re
import tempfile
import warnings
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import folium
from branca.colormap import ColorMap
from branca.element import Element
from folium.plugins import BeautifyIcon

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Streamlit serves <directory of the main script>/static; app.py lives at the project root.
STATIC_DIR = PROJECT_ROOT / "static" / "vendor"
STREAMLIT_BASE = "/app/static/vendor/"
# folium.Map's defaults beyond Leaflet and jQuery (folium.Popup uses `$`) serve only
# folium.Icon-style markers: ~1.2 MB of Bootstrap and icon fonts that most maps never need.
ICON_ASSETS = frozenset(
    {
        "bootstrap",
        "awesome_markers",
        "bootstrap_css",
        "glyphicons_css",
        "awesome_markers_font_css",
        "awesome_markers_css",
        "awesome_rotate_css",
    }
)
# Leaflet guesses its marker-image folder from a <link href$="leaflet.css">, which a local copy
# would match; an explicit empty path keeps folium-offline's embedded (data URI) images in use.
_PATCHES = {
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js": (
        '\n;L.Icon.Default.imagePath = "";\n'
    )
}
_PATCH_REVISION = "1"  # bump when _PATCHES change, so copies under old names are not reused
_REMOTE_PREFIXES = ("http://", "https://", "//")


@lru_cache(maxsize=1)
def _resources() -> dict[str, str]:
    # Imported lazily: the module is 3.5 MB of strings and only needed to write missing files.
    from offlinefolium.elements import _res

    return _res


@lru_cache(maxsize=1)
def _asset_version() -> str:
    try:
        return f"{importlib.metadata.version('folium-offline')}+{_PATCH_REVISION}"
    except importlib.metadata.PackageNotFoundError:
        return f"unknown+{_PATCH_REVISION}"


def asset_text(url: str) -> str | None:
    """Text of a resource by CDN address or local-copy URL (patched); None if none ships."""
    url = _origin(url)
    text = _resources().get(url)
    return None if text is None else text + _PATCHES.get(url, "")


def _origin(url: str) -> str:
    # A map already pointed at local copies (build_map does that) can still be embedded.
    if url in _resources():
        return url
    return _local_names().get(url.rsplit("/", 1)[-1], url)


@lru_cache(maxsize=1)
def _local_names() -> dict[str, str]:
    return {local_name(url, suffix): url for url in _resources() for suffix in (".js", ".css")}


def local_name(url: str, suffix: str = "") -> str:
    """A stable file name for a CDN address: a hash of address and version, then its basename.

    ``suffix`` (".js"/".css") is added when the basename lacks it: Streamlit sends a content
    type from the extension with ``nosniff``, so a file without one would never run.
    """
    base = re.sub(r"[^A-Za-z0-9._-]", "_", url.split("?")[0].rstrip("/").rsplit("/", 1)[-1])
    if suffix and not base.endswith(suffix):
        base = f"{base or 'asset'}{suffix}"
    digest = hashlib.sha1(f"{url}\n{_asset_version()}".encode()).hexdigest()[:10]
    return f"{digest}-{base or 'asset'}"


def ensure_asset(url: str, directory: Path = STATIC_DIR, suffix: str = "") -> Path | None:
    """The local copy of one resource, written if missing; None if none is packaged.

    Safe under concurrent start-ups: each writer fills its own temporary file and renames it
    into place atomically, and every writer produces the same bytes for the same name.
    """
    target = directory / local_name(url, suffix)
    if target.is_file() and target.stat().st_size > 0:
        return target
    text = asset_text(url)
    if text is None:
        return None
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".asset-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a proxy running as another user must read it
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _preorder(element: Element) -> Iterator[Element]:
    # Parents before children, children in insertion order: the order scripts must load in.
    yield element
    for child in list(getattr(element, "_children", {}).values()):
        yield from _preorder(child)


def _uses_icon_assets(element: Element) -> bool:
    # folium.Icon is an awesome-marker (Bootstrap glyphicons or Font Awesome), also when it is
    # a GeoJson's marker template; BeautifyIcon uses the same fonts; FastMarkerCluster's default
    # callback builds awesome-markers in the browser.
    marker = getattr(element, "marker", None)
    candidates = (element, getattr(element, "icon", None), getattr(marker, "icon", None))
    if any(isinstance(c, folium.Icon | BeautifyIcon) for c in candidates):
        return True
    return "AwesomeMarkers" in str(getattr(element, "callback", ""))


def _resource_lists(root: Element, trim: bool) -> Iterator[tuple[Element, str, list]]:
    """Each element's (attribute, [(name, url, suffix)]), Map defaults trimmed to what is used."""
    keep_icons = not trim or any(_uses_icon_assets(e) for e in _preorder(root))
    for element in _preorder(root):
        if isinstance(element, ColorMap):
            warnings.warn(
                "a branca colormap loads d3 from a CDN when rendered (and st_folium "
                "then blanks the map offline); draw the legend as HTML instead",
                stacklevel=3,
            )
        for attribute, suffix in (("default_js", ".js"), ("default_css", ".css")):
            resources = list(getattr(element, attribute, None) or [])
            if not resources:
                continue
            if isinstance(element, folium.Map) and not keep_icons:
                resources = [(n, u) for n, u in resources if n not in ICON_ASSETS]
            yield element, attribute, [(n, u, suffix) for n, u in resources]


def localise_assets(
    m: folium.Map,
    base_url: str = STREAMLIT_BASE,
    directory: Path = STATIC_DIR,
    *,
    trim: bool = True,
) -> folium.Map:
    """Point every JS/CSS resource of the map and its plugins at local copies; returns ``m``.

    Call it last, after every layer and plugin is added (elements added later keep their CDN
    links). Sets instance-level ``default_js``/``default_css``, which folium renders as links and
    streamlit-folium loads in its iframe, writing missing files under ``directory``, served at
    ``base_url``. Idempotent. ``trim`` drops Bootstrap and the icon fonts unless the map has a
    ``folium.Icon``/``BeautifyIcon`` or a default-callback FastMarkerCluster; pass False if
    popups use Bootstrap or Font Awesome classes. Raises ValueError for a CDN resource with no
    packaged copy.
    """
    for element, attribute, resources in _resource_lists(m, trim):
        setattr(
            element,
            attribute,
            [
                (name, _localise(url, suffix, base_url, directory))
                for name, url, suffix in resources
            ],
        )
    _add_offline_background(m)
    return m


def _localise(url: str, suffix: str, base_url: str, directory: Path) -> str:
    # One of our copies' URLs (a second call, perhaps with another base, or after the folder
    # was cleared under a cached map) maps back to its source and is checked again.
    origin = url if url.startswith(_REMOTE_PREFIXES) else _origin(url)
    if not origin.startswith(_REMOTE_PREFIXES):
        return url  # the caller's own relative or site-local resource: not ours to change
    if ensure_asset(origin, directory, suffix) is None:
        raise ValueError(f"no offline copy of {url}; add it or avoid the plugin that needs it")
    return base_url + local_name(origin, suffix)


def _add_offline_background(m: folium.Map) -> None:
    # Without tiles (offline) the map is this calm colour rather than Leaflet's grey; "div."
    # outranks leaflet.css, which loads after this style.
    m.get_root().header.add_child(
        Element("<style>div.leaflet-container{background:#eef2f5}</style>"),
        name="aop_offline_background",
    )


def file_base_url(directory: Path = STATIC_DIR) -> str:
    """A file:// ``base_url`` so a standalone HTML file opened on this machine uses the copies."""
    return directory.resolve().as_uri() + "/"
