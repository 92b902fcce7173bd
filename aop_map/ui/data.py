"""Cached loaders: the dataset (keyed on its files' signature), the 'near' geocoder, the
district outlines and place names; nothing drawn but a message when data cannot load.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import streamlit as st

from aop_map import settings
from aop_map.dataset import Dataset, load_dataset
from aop_map.filtering import (
    FilterIndex,
    build_index,
)
from aop_map.geocoding import GeocodeResult, geocode_query, online_geocoder_from_env
from aop_map.loading import data_dir_from_env, data_signature, vocabulary_path
from aop_map.ui.layout import ensure_entrypoint, show_setting_error
from aop_map.ui.maps import clear_map_cache
from aop_map.vocabulary import Vocabulary, VocabularyError

# How long a look at the data files stays current. Scanning them costs ~0.1 s per 10,000
# files, so a run reuses a recent scan rather than paying it on every click; a hand-edited
# file shows within this many seconds, and a published submission at once (clear_data_cache).
SIGNATURE_TTL_S = 10.0
_signatures: dict[str, tuple[float, str]] = {}
_signatures_lock = threading.Lock()
_clock = time.monotonic


def current_signature(data_dir: Path) -> str:
    """The data files' signature (loading.data_signature), rescanned at most every TTL."""
    key = str(data_dir)
    now = _clock()
    with _signatures_lock:
        known = _signatures.get(key)
    if known is not None and now - known[0] < SIGNATURE_TTL_S:
        return known[1]
    signature = data_signature(data_dir)
    with _signatures_lock:
        _signatures[key] = (now, signature)
    return signature


@st.cache_resource(show_spinner="Loading the map data…", max_entries=4)
def _cached_dataset(data_dir: str, signature: str) -> tuple[Dataset, FilterIndex]:
    # cache_resource, not cache_data: the frame is only ever read (filtering returns new
    # frames), and copying 100,000 rows on every rerun would cost more than filtering them.
    dataset = load_dataset(Path(data_dir))
    return dataset, build_index(dataset.frame, dataset.vocabulary)


def get_dataset() -> tuple[Dataset, FilterIndex]:
    """The dataset and its filter index, loaded once per change of the data files.

    Keyed on the data directory and its files' signature: an approved submission (a new
    YAML file) is picked up on the next run without restarting the server. When the data
    cannot be loaded at all (a broken vocabulary), the page shows a plain message, never a
    traceback or a server path, the details go to the log, and the page stops there.
    """
    ensure_entrypoint()
    try:
        data_dir = data_dir_from_env()
        return _cached_dataset(str(data_dir), current_signature(data_dir))
    except settings.SettingError as error:
        show_setting_error(str(error))
    except VocabularyError as error:
        logging.getLogger(__name__).error(
            "cannot load the data in %s: %s (%s)", data_dir, error, error.path
        )
        st.error(
            f"The map data cannot be shown: its vocabulary file is broken ({error}). "
            "The site's maintainers need to fix that file; the details are in the "
            "server log.",
            icon=":material/error:",
        )
    except Exception:  # any other failure: a bug, but visitors still get a plain message
        logging.getLogger(__name__).exception("cannot load the data in %s", data_dir)
        st.error(
            "The map data cannot be shown just now. The site's maintainers can find "
            "the details in the server log.",
            icon=":material/error:",
        )
    st.stop()


def clear_data_cache() -> None:
    """Forget loaded data, so the next run reloads (e.g. after publishing a submission)."""
    with _signatures_lock:
        _signatures.clear()
    _cached_dataset.clear()
    _cached_outlines.clear()
    clear_map_cache()


@st.cache_resource(max_entries=256, show_spinner=False)
def _cached_geocode(query: str) -> GeocodeResult:
    return geocode_query(query, online=online_geocoder_from_env())


def locate(query: str) -> GeocodeResult:
    """Geocode the 'near' box offline (cached: the same postcode twice costs nothing)."""
    return _cached_geocode(" ".join(query.split()))


@st.cache_resource(show_spinner=False, max_entries=4)
def _cached_outlines(vocabulary_file: str, mtime_ns: int) -> gpd.GeoDataFrame:
    from aop_map.boundaries import load_districts

    return load_districts(Vocabulary.load(vocabulary_file))


def get_district_outlines(dataset: Dataset) -> gpd.GeoDataFrame | None:
    """The six districts' boundaries (mapdata/basemap), named as in the vocabulary; None if
    the file cannot be read (the map then has no districts, but works)."""
    path = vocabulary_path(dataset.data_dir)
    try:
        return _cached_outlines(str(path), path.stat().st_mtime_ns)
    except Exception:  # boundaries are context: the map works without them
        logging.getLogger(__name__).exception("cannot read the district boundaries")
        return None


@st.cache_resource(show_spinner=False, max_entries=1)
def _cached_places() -> Any:
    from aop_map.boundaries import load_places

    return load_places()


def get_places() -> Any:
    """Place names for the map's labels (mapdata/basemap), or None if they cannot be read."""
    try:
        return _cached_places()
    except Exception:  # labels are context: the map works without them
        logging.getLogger(__name__).exception("cannot read the place names")
        return None
