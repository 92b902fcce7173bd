"""Folium's JavaScript and CSS from local files instead of CDNs, so maps work with no network.

The copies come from the PyPI package ``folium-offline`` (its ``offlinefolium.elements._res``
maps each CDN address folium uses to the file's text). They are written once into
``static/vendor/`` beside ``app.py``, which Streamlit serves at ``/app/static/vendor/`` when
``server.enableStaticServing`` is on (``.streamlit/config.toml``). A standalone HTML render can
point at the same folder with a ``file://`` base instead.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import folium
from branca.element import Element

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STATIC_DIR = PROJECT_ROOT / "static" / "vendor"
STREAMLIT_BASE = "/app/static/vendor/"
# The Map's defaults beyond Leaflet itself (jQuery, Bootstrap, awesome-markers, Font Awesome)
# serve marker icons this project never uses; loading them offline would also need font files.
MAP_ASSETS_KEPT = frozenset({"leaflet", "leaflet_css"})


def _resources() -> dict[str, str]:
    from offlinefolium.elements import _res

    return _res


def local_name(url: str) -> str:
    """A stable local file name for a CDN address: a short hash plus the original basename."""
    base = url.rstrip("/").rsplit("/", 1)[-1] or "asset"
    digest = hashlib.sha1(url.encode()).hexdigest()[:10]
    return f"{digest}-{base}"


def ensure_asset(url: str, directory: Path = STATIC_DIR) -> Path | None:
    """Write one resource's local copy if missing (atomically); None if none is packaged."""
    text = _resources().get(url)
    if text is None:
        return None
    target = directory / local_name(url)
    if target.is_file() and target.stat().st_size == len(text.encode("utf-8")):
        return target
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".asset-")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, target)  # concurrent start-ups write identical bytes: last one wins
    return target


def _elements(m: folium.Map) -> Iterator[object]:
    stack: list[object] = [m]
    while stack:
        element = stack.pop()
        yield element
        stack.extend(getattr(element, "_children", {}).values())


def localise_assets(
    m: folium.Map, base_url: str = STREAMLIT_BASE, directory: Path = STATIC_DIR
) -> folium.Map:
    """Point every JS/CSS resource of the map and its plugins at local copies.

    Sets instance-level ``default_js``/``default_css`` (folium and streamlit-folium both read
    these), writing the files on first use. A resource with no packaged copy raises, so an
    online dependency can never slip in unnoticed.
    """
    for element in _elements(m):
        for attribute in ("default_js", "default_css"):
            resources = getattr(element, attribute, None)
            if not resources:
                continue
            if element is m:
                resources = [(n, u) for n, u in resources if n in MAP_ASSETS_KEPT]
            setattr(element, attribute, [(name, _localise(url, base_url, directory))
                                         for name, url in resources])
    # Without tiles (offline) the map is this calm colour rather than Leaflet's grey.
    m.get_root().header.add_child(Element("<style>.leaflet-container{background:#eef2f5}"
                                          "</style>"), name="aop_offline_background")
    return m


def _localise(url: str, base_url: str, directory: Path) -> str:
    if url.startswith(base_url) or not url.startswith(("http://", "https://")):
        return url
    if ensure_asset(url, directory) is None:
        raise ValueError(f"no offline copy of {url}; add it or avoid the plugin that needs it")
    return base_url + local_name(url)


def file_base_url(directory: Path = STATIC_DIR) -> str:
    """A file:// base for standalone HTML that loads the same local copies."""
    return directory.resolve().as_uri() + "/"
