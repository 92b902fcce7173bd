"""Folium maps in Streamlit: the tile probe, and st_folium's arguments rendered once per
selection for every session; what a map shows is aop_map.mapping's.
"""

from __future__ import annotations

import re
import socket
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

import folium
import streamlit as st
import streamlit_folium

from aop_map import settings

TILE_HOST = ("tile.openstreetmap.org", 443)
TILE_PROBE_TIMEOUT_S = 1.5
# How long a probe's answer stands before the next page load asks again.
TILE_PROBE_TTL_S = 600
_tile_probe: dict[str, Any] = {"checked": 0.0, "result": None, "running": False}
_tile_probe_lock = threading.Lock()


def _probe_tiles() -> None:
    try:
        with socket.create_connection(TILE_HOST, timeout=TILE_PROBE_TIMEOUT_S):
            result = True
    except OSError:
        result = False
    with _tile_probe_lock:
        _tile_probe.update(result=result, checked=time.monotonic(), running=False)


def tiles_available() -> bool | None:
    """Whether the background map can load: False when AOP_MAP_OFFLINE is true, True when it
    is false, else the answer of a quick check in a background thread (None until it has
    answered)."""
    offline = settings.flag("AOP_MAP_OFFLINE")
    if offline is not None:
        return not offline
    with _tile_probe_lock:
        stale = time.monotonic() - _tile_probe["checked"] > TILE_PROBE_TTL_S
        if stale and not _tile_probe["running"]:
            _tile_probe["running"] = True
            threading.Thread(target=_probe_tiles, name="aop-tile-probe", daemon=True).start()
        return _tile_probe["result"]


# The session's answer to "tiles or not", kept from its first map: the probe may answer
# after that first map, and a different answer changes st_folium's arguments, which replaces
# the map and resets the view the visitor has moved to. A reload asks again.
TILES_CHOICE_KEY = "aop_tiles_choice"


def tiles_enabled() -> bool:
    """Whether this session's maps add the OpenStreetMap tile layer: yes unless known to be
    unavailable when the session drew its first map (where tiles fail to load, the map
    falls back to its own district and place-name background)."""
    state = st.session_state
    if TILES_CHOICE_KEY not in state:
        state[TILES_CHOICE_KEY] = tiles_available() is not False
    return bool(state[TILES_CHOICE_KEY])


def show_tiles_note(small: bool = False) -> None:
    """Under a map: where the background comes from, or why there is none."""
    available = tiles_enabled()
    if not available and small:
        st.caption(
            "Map tiles are unavailable offline; the map draws district boundaries "
            "and place names instead."
        )
    elif not available:
        st.caption(
            "Map tiles are unavailable offline, so the map draws its own background: "
            "district boundaries coloured by activity and the names of towns and "
            "villages; markers, clusters, the energy layer and legends all work.",
            help="Set AOP_MAP_OFFLINE=0 to always request tiles.",
        )
    else:
        st.caption(
            "Background map © OpenStreetMap contributors (ODbL). Without a network "
            "the map draws district boundaries and place names instead."
        )


# Rendered maps kept (all sessions together): each is mostly its script, ~80 bytes a point,
# so 0.8 MB at 10,000 records and 8 MB at 100,000.
MAP_CACHE_ENTRIES = 8
_maps: OrderedDict[Hashable, tuple[weakref.ref, dict[str, Any]]] = OrderedDict()
_maps_lock = threading.Lock()


# folium's page header forbids pinch zoom (maximum-scale=1, user-scalable=no). Inside
# st_folium's iframe the tag does nothing a browser honours, but it tells assistive checks
# (axe: meta-viewport) that zoom is blocked, and it would block it if the map were opened
# alone: the map's own header is sent without it.
ZOOM_LOCK = re.compile(r"<meta\s+name=\"viewport\"[^>]*user-scalable=no[^>]*>\s*")


class _FoliumComponent:
    """streamlit-folium's component function, able to hand its arguments back instead.

    st_folium does its slow work (rendering every element of the map through Jinja, then
    hashing the script) to compute the arguments of one call of this function; capturing them
    lets a map be rendered once and drawn again by any run with the same arguments. Capturing
    is per thread: other sessions' maps, drawn meanwhile, are drawn as usual.
    """

    def __init__(self, component: Callable[..., Any]) -> None:
        self.component = component
        self.local = threading.local()

    def __call__(self, **arguments: Any) -> Any:
        sink = getattr(self.local, "sink", None)
        if sink is None:
            return self.component(**arguments)
        sink.update(arguments)
        return None


_install_lock = threading.Lock()


def _folium_component() -> _FoliumComponent:
    """The capturing wrapper, installed in streamlit_folium once (st_folium calls it by name)."""
    with _install_lock:
        current = streamlit_folium._component_func
        if not isinstance(current, _FoliumComponent):
            current = _FoliumComponent(current)
            streamlit_folium._component_func = current
        return current


def folium_arguments(m: folium.Map, **options: Any) -> dict[str, Any]:
    """The arguments st_folium(m, **options) gives streamlit-folium's component, not drawn.

    Rendered with render=False: st_folium's default also renders the whole HTML page, which
    it never uses -- the Jinja work twice over, and branca's page render evaluates the
    already-rendered scripts as templates once more, so text in a record that looks like
    Jinja would be evaluated on the server.
    """
    component = _folium_component()
    captured: dict[str, Any] = {}
    component.local.sink = captured
    try:
        streamlit_folium.st_folium(m, render=False, **options)
    finally:
        component.local.sink = None
    if isinstance(captured.get("header"), str):
        captured["header"] = ZOOM_LOCK.sub("", captured["header"])
    return captured


def show_map(
    build: Callable[[], folium.Map], *, memo: tuple[object, Hashable] | None = None, **options: Any
) -> Any:
    """Draw the folium map `build()` makes with st_folium (options as st_folium's); its value.

    With `memo` = (owner, key) the map is built and rendered once: any later run, in any
    session, with the same owner (by identity: the loaded dataset) and key draws that
    rendering again. The key must stand for everything the map shows (selection, view, tiles,
    links); a new dataset object (the data changed) never matches an old one's maps.
    """
    if memo is None:
        return _folium_component().component(**folium_arguments(build(), **options))
    owner, key = memo
    cache_key = (id(owner), key, tuple(sorted((k, repr(v)) for k, v in options.items())))
    with _maps_lock:
        known = _maps.get(cache_key)
        if known is not None and known[0]() is owner:
            _maps.move_to_end(cache_key)
            arguments = known[1]
        else:
            arguments = None
    if arguments is None:
        arguments = folium_arguments(build(), **options)
        with _maps_lock:
            _maps[cache_key] = (weakref.ref(owner), arguments)
            while len(_maps) > MAP_CACHE_ENTRIES:
                _maps.popitem(last=False)
    return _folium_component().component(**arguments)


def clear_map_cache() -> None:
    """Forget every rendered map."""
    with _maps_lock:
        _maps.clear()
