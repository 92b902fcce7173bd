"""The only aop_map module importing streamlit: cached loaders, shared filters, URL state.

Pages call these helpers and the pure modules; they never load data or parse URLs themselves.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path

import geopandas as gpd
import streamlit as st

from aop_map.dataset import Dataset, load_dataset
from aop_map.filtering import (
    FILTER_FIELDS,
    FilterIndex,
    Selection,
    build_index,
    count_options,
    filter_frame,
    selection_from_params,
    selection_to_params,
)
from aop_map.geocoding import GeocodeResult, geocode_query, online_geocoder_from_env
from aop_map.loading import data_dir_from_env, find_record_files, vocabulary_path

# Widget label and session-state key of each filter, in sidebar order.
FILTER_LABELS = {
    "condition": "Health condition",
    "art_form": "Art form",
    "age_group": "Age group",
    "district": "District or area",
    "status": "Status",
    "delivery": "Delivery",
    "referral": "Referral route",
    "model": "Commissioning model",
}
RADIUS_CHOICES = (2, 5, 10, 15, 20, 30, 50, 100)
DEFAULT_RADIUS_KM = 10
# Pages whose content depends on the filters; others keep only their own parameters.
FILTERED_PAGES = ("map", "directory", "coverage")
KEY_PREFIX = "filter_"


# ---------------------------------------------------------------------------------------------
# Data, cached across reruns and sessions until a file changes


def data_signature(data_dir: Path) -> str:
    """Changes whenever a record file (or the vocabulary) is added, removed or edited."""
    digest = hashlib.sha1(str(data_dir.resolve()).encode())
    for path in (vocabulary_path(data_dir), *find_record_files(data_dir)):
        try:
            stat = path.stat()
        except OSError:
            continue
        digest.update(f"{path}:{stat.st_mtime_ns}:{stat.st_size};".encode())
    return digest.hexdigest()


@st.cache_resource(show_spinner="Loading the map data…", max_entries=4)
def _cached_dataset(data_dir: str, signature: str) -> tuple[Dataset, FilterIndex]:
    # cache_resource, not cache_data: the frame is read-only here and copying 100,000 rows
    # on every rerun would cost more than the filtering itself.
    dataset = load_dataset(Path(data_dir))
    return dataset, build_index(dataset.frame, dataset.vocabulary)


def get_dataset() -> tuple[Dataset, FilterIndex]:
    """The dataset and its filter index, loaded once per change of the data files."""
    data_dir = data_dir_from_env()
    return _cached_dataset(str(data_dir), data_signature(data_dir))


def clear_data_cache() -> None:
    """Forget loaded data (the next run reloads; used after publishing a submission)."""
    _cached_dataset.clear()


@st.cache_resource(max_entries=256)
def _cached_geocode(query: str) -> GeocodeResult:
    return geocode_query(query, online=online_geocoder_from_env())


def locate(query: str) -> GeocodeResult:
    """Geocode the 'near' box (cached: typing the same postcode twice costs nothing)."""
    return _cached_geocode(query.strip())


# ---------------------------------------------------------------------------------------------
# Escaping user text for Markdown


_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&])")


def md_escape(text: object) -> str:
    """User text that Markdown shows literally: no links, images, emphasis or HTML."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", str(text if text is not None else ""))


# ---------------------------------------------------------------------------------------------
# Filters: widgets <-> session state <-> URL


def _key(name: str) -> str:
    return KEY_PREFIX + name


def init_filters_from_url(dataset: Dataset) -> list[str]:
    """On a session's first run, set the filter widgets from the URL; returns notes."""
    if st.session_state.get("_filters_initialised"):
        return st.session_state.get("_url_notes", [])
    params = {key: st.query_params.get_all(key) for key in st.query_params}
    selection, notes = selection_from_params(params, dataset.vocabulary)
    for name in FILTER_FIELDS:
        st.session_state[_key(name)] = list(selection.terms(name))
    st.session_state[_key("q")] = selection.q
    st.session_state[_key("near")] = selection.near
    radius = selection.radius_km or DEFAULT_RADIUS_KM
    st.session_state[_key("radius_km")] = min(RADIUS_CHOICES, key=lambda r: abs(r - radius))
    st.session_state["_filters_initialised"] = True
    st.session_state["_url_notes"] = notes
    return notes


def current_selection() -> Selection:
    """The selection the widgets hold now."""
    state = st.session_state
    near = str(state.get(_key("near"), "") or "").strip()
    return Selection(
        **{name: tuple(state.get(_key(name), []) or ()) for name in FILTER_FIELDS},
        q=str(state.get(_key("q"), "") or "").strip(),
        near=near,
        radius_km=float(state.get(_key("radius_km"), DEFAULT_RADIUS_KM)) if near else None,
    )


def clear_filters() -> None:
    """Reset every filter (a button callback)."""
    for name in FILTER_FIELDS:
        st.session_state[_key(name)] = []
    st.session_state[_key("q")] = ""
    st.session_state[_key("near")] = ""
    st.session_state[_key("radius_km")] = DEFAULT_RADIUS_KM


def set_filters(selection: Selection) -> None:
    """Put a selection into the widgets (e.g. from a coverage cell)."""
    for name in FILTER_FIELDS:
        st.session_state[_key(name)] = list(selection.terms(name))
    st.session_state[_key("q")] = selection.q


def sync_url(selection: Selection, keep: tuple[str, ...] = ()) -> None:
    """Make the URL show the selection (plus page-specific params such as `id`)."""
    wanted: dict[str, list[str] | str] = dict(selection_to_params(selection))
    for key in keep:
        if key in st.query_params:
            wanted[key] = st.query_params.get_all(key)
    current = {key: st.query_params.get_all(key) for key in st.query_params}
    normalised = {k: v if isinstance(v, list) else [v] for k, v in wanted.items()}
    if current != normalised:
        st.query_params.from_dict(wanted)


def render_filters(dataset: Dataset, index: FilterIndex) -> None:
    """The shared sidebar: counts per option, text search, near + radius, clear."""
    vocabulary = dataset.vocabulary
    selection = current_selection()
    sidebar = st.sidebar
    sidebar.header("Find activity")
    sidebar.text_input("Search names and descriptions", key=_key("q"),
                       placeholder="e.g. choir, Artlift, printmaking")
    near_col, radius_col = sidebar.columns([3, 2])
    near_col.text_input("Near (postcode or place)", key=_key("near"),
                        placeholder="e.g. GL14 2AA or Stroud")
    radius_col.selectbox("Within", RADIUS_CHOICES, key=_key("radius_km"),
                         format_func=lambda km: f"{km} km")
    origin = resolve_origin(selection)
    for name, label in FILTER_LABELS.items():
        section = "areas" if name == "district" else FILTER_FIELDS[name]
        counts = count_options(dataset.frame, selection, vocabulary, name, index=index,
                               origin=origin)
        terms = {t.id: t.label for t in vocabulary.terms(section)}
        options = list(terms)
        sidebar.multiselect(
            label, options, key=_key(name),
            format_func=lambda term, terms=terms, counts=counts:
                f"{terms.get(term, term)} ({counts.get(term, 0)})",
            placeholder="Any",
        )
    sidebar.button("Clear filters", on_click=clear_filters, key="clear_filters_sidebar",
                   disabled=current_selection().is_empty)


@dataclass(frozen=True)
class Filtered:
    """A selection applied: matching rows, the place searched near, and messages."""

    selection: Selection
    frame: gpd.GeoDataFrame
    origin: tuple[float, float] | None
    located: GeocodeResult | None
    warnings: tuple[str, ...]


def resolve_origin(selection: Selection) -> tuple[float, float] | None:
    """(lat, lon) of the 'near' box, or None when empty or unknown."""
    if not selection.near:
        return None
    result = locate(selection.near)
    return (result.lat, result.lon) if result.lat is not None else None


def apply_filters(dataset: Dataset, index: FilterIndex) -> Filtered:
    """Filter the dataset by the current widgets, resolving 'near' offline."""
    selection = current_selection()
    warnings: list[str] = []
    located = None
    origin = None
    if selection.near:
        located = locate(selection.near)
        if located.lat is None:
            warnings.append(f"Could not find {selection.near!r}: {located.message}. "
                            "Showing results without the distance filter.")
            selection = replace(selection, near="", radius_km=None)
        else:
            origin = (located.lat, located.lon)
    frame = filter_frame(dataset.frame, selection, dataset.vocabulary, origin=origin,
                         index=index)
    return Filtered(current_selection(), frame, origin, located, tuple(warnings))


def show_messages(notes: list[str], filtered: Filtered | None = None) -> None:
    """URL notes and 'near' warnings, shown above a page's content."""
    for note in notes:
        st.info(f"{note} (from the link you opened).", icon="ℹ️")
    if filtered:
        for warning in filtered.warnings:
            st.warning(warning, icon="⚠️")


def tiles_enabled() -> bool:
    """Map tiles come from OpenStreetMap unless AOP_MAP_OFFLINE=1 says there is no network."""
    return os.environ.get("AOP_MAP_OFFLINE", "").strip().lower() not in ("1", "true", "yes")


# ---------------------------------------------------------------------------------------------
# Map helpers


@st.cache_resource(show_spinner=False)
def _cached_outlines(signature: str) -> gpd.GeoDataFrame:
    from aop_map.boundaries import district_outlines

    dataset, _ = get_dataset()
    return district_outlines(dataset.vocabulary)


def get_district_outlines() -> gpd.GeoDataFrame | None:
    """Approximate district outlines (None if the postcode data cannot provide them)."""
    try:
        return _cached_outlines("v1")
    except Exception:  # outlines are decoration: the map works without them
        return None


def provider_link_template() -> str:
    """An absolute link to the provider page with an `{id}` slot, valid inside the map iframe."""
    url = st.context.url or ""
    match = re.match(r"^(https?://[^/]+)(/.*)?$", url)
    if not match:
        return "/provider?id={id}"
    path = (match.group(2) or "/").rstrip("/")
    # Drop the current page's own path segment, keeping any base path the app is served under.
    base = path.rsplit("/", 1)[0] if path.rsplit("/", 1)[-1] in (
        "map", "directory", "coverage", "provider") else path
    return f"{match.group(1)}{base}/provider?id={{id}}"


def record_at(clicked: dict | None, frame: gpd.GeoDataFrame) -> dict | None:
    """The row nearest a clicked map point (within a few metres), or None."""
    if not clicked or not len(frame) or "lat" not in clicked:
        return None
    from aop_map.geocoding import haversine_km

    located = frame[frame.geometry.notna()]
    if not len(located):
        return None
    distances = haversine_km(clicked["lat"], clicked["lng"], located["lat"], located["lon"])
    best = int(distances.argmin())
    if distances[best] > 0.05:
        return None
    return located.iloc[best].to_dict()


def show_nearest(frame: gpd.GeoDataFrame, vocabulary, limit: int = 10) -> None:
    """The nearest matches with distance and how to contact them (text, not just the map)."""
    nearest = frame.drop_duplicates("record_id").head(limit)
    for row in nearest.itertuples():
        distance = f"{row.distance_km:.1f} km" if row.distance_km == row.distance_km else "—"
        with st.container(border=True):
            st.markdown(f"**{md_escape(row.name)}** · {distance} · "
                        f"{md_escape(vocabulary.label('status', row.status))}")
            details = []
            if row.art_forms:
                details.append("Art forms: " + ", ".join(vocabulary.labels("art_forms",
                                                                           row.art_forms)))
            if row.conditions:
                details.append("Conditions: " + ", ".join(vocabulary.labels("conditions",
                                                                            row.conditions)))
            if details:
                st.markdown(md_escape(" · ".join(details)))
            contact = [c for c in (row.website, row.email, row.phone) if c]
            st.markdown("Contact: " + md_escape(" · ".join(contact)) if contact else
                        "Contact details are not published; see the provider page for how "
                        "to reach them.")
            st.page_link("pages/provider.py", label="Provider page", icon="➡️",
                         query_params={"id": row.record_id})


# ---------------------------------------------------------------------------------------------
# Moderator authentication

PASSWORD_ENV = "AOP_MAP_MODERATOR_PASSWORD"
MAX_LOGIN_FAILURES = 5


def password_matches(given: str, expected: str) -> bool:
    """Constant-time comparison, so response time does not reveal how much matched."""
    import hmac

    return bool(expected) and hmac.compare_digest(given.encode("utf-8"),
                                                  expected.encode("utf-8"))


def _secret(name: str) -> object:
    try:
        return st.secrets.get(name)
    except Exception:  # no secrets.toml at all
        return None


def moderator_login() -> str | None:
    """The signed-in moderator's name, or None after showing how to sign in.

    With OIDC configured in .streamlit/secrets.toml ([auth] plus a `moderators` list of
    emails) it uses st.login; otherwise a password from $AOP_MAP_MODERATOR_PASSWORD or the
    `moderator_password` secret. The password is never logged or shown.
    """
    if _secret("auth"):
        if not st.user.is_logged_in:
            st.button("Sign in", on_click=st.login, type="primary")
            return None
        allowed = [str(e).lower() for e in (_secret("moderators") or [])]
        email = str(st.user.get("email", "")).lower()
        if email not in allowed:
            st.error("This account is not a moderator.")
            st.button("Sign out", on_click=st.logout)
            return None
        return email
    expected = os.environ.get(PASSWORD_ENV) or str(_secret("moderator_password") or "")
    if not expected:
        st.info(f"Moderation is not set up on this server. Set {PASSWORD_ENV} (or configure "
                "sign-in in .streamlit/secrets.toml) and restart the app.")
        return None
    if st.session_state.get("moderator"):
        return st.session_state["moderator"]
    failures = st.session_state.get("moderator_failures", 0)
    if failures >= MAX_LOGIN_FAILURES:
        st.error("Too many wrong passwords in this session. Reload the page to try again later.")
        return None
    with st.form("moderator_login"):
        name = st.text_input("Your name (for the audit log)", max_chars=80)
        password = st.text_input("Moderator password", type="password")
        if st.form_submit_button("Sign in", type="primary"):
            if name.strip() and password_matches(password, expected):
                st.session_state["moderator"] = name.strip()
                st.rerun()
            st.session_state["moderator_failures"] = failures + 1
            st.error("Wrong name or password.")
    return None
