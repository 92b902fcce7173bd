"""The only aop_map module importing streamlit: cached loaders, shared filters, URL state.

Pages call these helpers and the pure modules; they never load data or parse URLs themselves.

State flows one way per run: the URL sets the filter widgets when a session starts, or when a
link with filters is followed inside the app (the coverage page's "open the map" links); after
that the widgets are the truth and every run writes them back to the URL, so the address bar
can always be copied and shared.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import runpy
import socket
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import streamlit as st
import streamlit_folium

from aop_map import fields, settings, views
from aop_map.dataset import Dataset, load_dataset
from aop_map.filtering import (
    MAX_RADIUS_KM,
    RELEVANCE,
    SCOPE_UK,
    WHERE_COLUMNS,
    FilterIndex,
    Selection,
    build_index,
    count_options,
    count_records,
    filter_fields,
    filter_frame,
    selection_from_params,
    selection_to_params,
    suggest_terms,
    table_columns,
    url_params,
)
from aop_map.geocoding import GeocodeResult, geocode_query, online_geocoder_from_env
from aop_map.limits import client_key, sign_in_entries
from aop_map.loading import data_dir_from_env, data_signature, vocabulary_path
from aop_map.registration import YES_NO
from aop_map.store import SubmissionStore
from aop_map.text import md_escape
from aop_map.text import md_link as md_link  # pages escape through ui
from aop_map.vocabulary import Vocabulary, VocabularyError

APP_NAME = "Gloucestershire arts and health map"
DEFAULT_RADIUS_KM = 10
# url_path of the pages whose content follows the sidebar filters ("" is the home page, the map).
FILTERED_PAGES = ("", "map", "directory", "coverage")
KEY_PREFIX = "filter_"


# ---------------------------------------------------------------------------------------------
# Data, cached across reruns and sessions until a file changes


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


ENTRYPOINT = Path(__file__).resolve().parent.parent / "app.py"
# Set while app.py's body runs (app_frame): a page run without it was started by Streamlit alone.
_in_frame: contextvars.ContextVar[bool] = contextvars.ContextVar("aop_map_in_frame", default=False)


@contextlib.contextmanager
def app_frame() -> Iterator[None]:
    """The frame app.py's body runs in: settings checked first (a bad one is a plain message
    naming the variable, not a traceback), and pages told they were reached through it."""
    token = _in_frame.set(True)
    try:
        for problem in settings.problems():
            show_setting_error(problem)
        yield
    except settings.SettingError as error:
        show_setting_error(str(error))
    finally:
        _in_frame.reset(token)


def show_setting_error(problem: str) -> None:
    """Say which AOP_MAP_* setting is wrong, and stop the page."""
    st.error(
        f"The app is not set up correctly: {md_escape(problem)}. Whoever runs it needs "
        "to fix that setting and restart it.",
        icon=":material/error:",
    )
    st.stop()


def ensure_entrypoint() -> None:
    """Run app.py first, in this same run, when Streamlit started a page file on its own.

    Why it is needed: a `pages/` folder beside the entry point is also Streamlit's older
    multipage layout. Until some session calls st.navigation, a server process takes that
    folder as its page list, so the first request of a fresh server for, say, /directory runs
    pages/directory.py alone: no page config, no navigation menu, no sidebar filters, no URL
    restore. AppTest starts every run that way (it resets the layout each run). Streamlit has
    no setting to turn the old layout off; its advice is to name the folder otherwise
    (`app_pages/`), which the project's layout (a top-level `pages/`) rules out.

    What it does: hands over to app.py before the page has drawn anything (every page calls
    this first, through get_dataset); app.py's st.navigation switches the process to the new
    layout for good and runs this page inside the frame; then the outer run stops. Nothing is
    rerun, so a button pressed in that run still counts.
    """
    if _in_frame.get():
        return
    runpy.run_path(str(ENTRYPOINT), run_name="__aop_map_app__")
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


# ---------------------------------------------------------------------------------------------
# Filters: URL <-> widgets (session state) <-> selection


def _key(name: str) -> str:
    return KEY_PREFIX + name


def filter_labels() -> dict[str, str]:
    """Filter name (URL parameter) -> its sidebar label, in sidebar order (the registry's)."""
    return {spec.facet: spec.facet_label or spec.label for spec in fields.filters() if spec.facet}


def widget_keys() -> tuple[str, ...]:
    """The session-state keys of the sidebar's widgets: one per URL parameter."""
    return tuple(_key(name) for name in url_params())


def _url_filter_params() -> dict[str, list[str]]:
    """The filter parameters of the current URL (page parameters such as `id` left out)."""
    ours = url_params()
    return {key: st.query_params.get_all(key) for key in st.query_params if key in ours}


def _put_selection(selection: Selection) -> None:
    """Set every filter widget from a selection (only before the widgets are drawn)."""
    state = st.session_state
    for name in filter_fields():
        state[_key(name)] = list(selection.terms(name))
    state[_key("q")] = selection.q
    state[_key("near")] = selection.near
    radius = selection.radius_km or DEFAULT_RADIUS_KM
    state[_key("radius_km")] = int(min(max(round(radius), 1), MAX_RADIUS_KM))
    state[_key("include_past")] = selection.include_past
    state[_key("scope")] = selection.scope == SCOPE_UK  # a toggle: on means scope=uk


def restore_filters(dataset: Dataset) -> None:
    """Run first, every run, in app.py: take filters from the URL when it brings new ones.

    A session's first run, and a link inside the app that carries filters, set the widgets
    from the URL (unknown values are dropped, with a note for the page to show). Otherwise the
    widgets keep their values, also across pages that do not draw them.
    """
    state = st.session_state
    params = _url_filter_params()
    first_run = "_url_synced" not in state
    if first_run or (params and params != state["_url_synced"]):
        selection, notes = selection_from_params(params, dataset.vocabulary)
        _put_selection(selection)
        state["_url_notes"] = (current_selection(), tuple(notes))
        state["_url_synced"] = params
        return
    for key in widget_keys():
        # Streamlit forgets a widget's value on a run that does not draw it (the provider or
        # about page); writing it back makes it plain session state that survives.
        if key in state:
            state[key] = state[key]


def url_notes() -> list[str]:
    """Notes about ignored URL values, while the filters still are what the URL gave."""
    applied, notes = st.session_state.get("_url_notes", (None, ()))
    return list(notes) if applied == current_selection() else []


def current_selection() -> Selection:
    """The selection the widgets hold now."""
    state = st.session_state
    near = " ".join(str(state.get(_key("near"), "") or "").split())
    radius = state.get(_key("radius_km")) or DEFAULT_RADIUS_KM
    return Selection(
        {name: tuple(state.get(_key(name), []) or ()) for name in filter_fields()},
        q=str(state.get(_key("q"), "") or "").strip(),
        near=near,
        radius_km=float(radius) if near else None,
        include_past=bool(state.get(_key("include_past"))),
        scope=SCOPE_UK if state.get(_key("scope")) else "",
    )


def clear_filters() -> None:
    """Reset every filter (a button callback, so it runs before the widgets are drawn)."""
    _put_selection(Selection())


def write_url(selection: Selection) -> None:
    """Make the URL show the selection (replacing page parameters such as `id`)."""
    wanted = selection_to_params(selection)
    normalised = {k: v if isinstance(v, list) else [v] for k, v in wanted.items()}
    current = {key: st.query_params.get_all(key) for key in st.query_params}
    listed = shortlist_params()  # the shortlist travels with the filters
    if current != {**normalised, **{k: [v] for k, v in listed.items()}}:
        st.query_params.from_dict({**wanted, **listed})
    st.session_state["_url_synced"] = normalised


def render_filters(dataset: Dataset, index: FilterIndex) -> None:
    """The shared sidebar: search, near + radius, facet lists with counts, matches, clear.

    Also writes the selection to the URL, so changing a filter updates the address bar.
    """
    vocabulary = dataset.vocabulary
    sidebar = st.sidebar
    sidebar.header("Find activity")
    matches = sidebar.container()
    sidebar.text_input(
        "Search names, descriptions, topics and places",
        key=_key("q"),
        max_chars=200,
        placeholder="e.g. choir, memory, art class, Stroud",
        help='Every word must appear, in the text, a topic ("breathing" '
        "finds COPD) or a place; best matches first; small typos are "
        "forgiven.",
    )
    near_col, radius_col = sidebar.columns([3, 2], vertical_alignment="bottom")
    near_col.text_input(
        "Near (postcode or place)",
        key=_key("near"),
        max_chars=100,
        placeholder="GL14 2AA or Stroud",
    )
    radius_col.number_input(
        "Within (km)",
        min_value=1,
        max_value=MAX_RADIUS_KM,
        step=1,
        key=_key("radius_km"),
        help="Distance from the postcode or place, as the crow flies.",
    )
    filtered = apply_filters(dataset, index)
    for name, label in filter_labels().items():
        counts = count_options(
            dataset.frame,
            filtered.search_selection,
            vocabulary,
            name,
            index=index,
            origin=filtered.origin,
        )
        labels = term_labels(vocabulary, filter_fields()[name])
        if _yes_only(name):  # free=1: one button, on or off, with its count
            sidebar.pills(
                label,
                list(labels),
                key=_key(name),
                selection_mode="multi",
                label_visibility="collapsed",
                format_func=lambda term, label=label, counts=counts: (
                    f"{label} ({counts.get(term, 0)})"
                ),
            )
            continue
        sidebar.multiselect(
            label,
            list(labels),
            key=_key(name),
            placeholder="Any",
            select_all=False,
            format_func=lambda term, labels=labels, counts=counts: (
                f"{labels.get(term, term)} ({counts.get(term, 0)})"
            ),
        )
    render_lifecycle_toggles(dataset, index, filtered.search_selection)
    in_view = views.in_view_count(index, filtered.search_selection)
    matches.markdown(
        f"**{count_records(filtered.frame)}** of {in_view} "
        "records match." + serving_note(filtered) + search_suggestion(filtered, index)
    )
    sidebar.button(
        "Clear filters",
        on_click=clear_filters,
        key="clear_filters_sidebar",
        icon=":material/filter_alt_off:",
        disabled=filtered.selection.is_empty,
    )
    write_url(filtered.selection)


def _yes_only(name: str) -> bool:
    """True for a yes-only facet (free, self_referral, step_free): a bool registry field."""
    spec = fields.by_facet(name)
    return spec is not None and spec.datatype == "bool"


def search_suggestion(filtered: Filtered, index: FilterIndex) -> str:
    """' Did you mean: Dementia, Singing?' when a search found nothing ("" otherwise)."""
    query = filtered.search_selection.q
    if not query.strip() or len(filtered.frame) or index.text is None:
        return ""
    nearest = suggest_terms(index, index.text, query)
    if not nearest:
        return " Nothing matches that search; try another word."
    return " Did you mean: " + ", ".join(f"“{md_escape(n)}”" for n in nearest) + "?"


def render_lifecycle_toggles(dataset: Dataset, index: FilterIndex, selection: Selection) -> None:
    """The sidebar's two switches of what is in view at all (URL include_past=1, scope=uk),
    each saying how many records it would add."""
    past, elsewhere = views.hidden_counts(index, selection)
    sidebar = st.sidebar
    sidebar.toggle(
        f"Include past activity ({past} ended)"
        if past and not selection.include_past
        else "Include past activity",
        key=_key("include_past"),
        help="Activity that ran and has finished, kept as history; shown greyed.",
    )
    sidebar.toggle(
        f"Include examples elsewhere in the UK ({elsewhere})"
        if elsewhere and not selection.scope
        else "Include examples elsewhere in the UK",
        key=_key("scope"),
        help="National case studies outside Gloucestershire. They never count "
        "as provision in the county's coverage and gaps unless included.",
    )


# How each kind of provider-page banner looks (views.provider_banners gives the words).
BANNER_ICONS = {
    "ended": ":material/history:",
    "elsewhere": ":material/public:",
    "out_of_date": ":material/update:",
}


def show_lifecycle_banners(record: Any) -> None:
    """At the top of a provider page: ended, an example elsewhere, or "may be out of date"."""
    import datetime as dt

    from aop_map.review import review_months

    for kind, text in views.provider_banners(record, dt.date.today(), review_months()):
        show = st.info if kind == "elsewhere" else st.warning
        show(text, icon=BANNER_ICONS[kind])


# The review queue on the moderation page shows this many records (the oldest first).
REVIEW_QUEUE_SHOWN = 50


def show_review_queue(store: SubmissionStore, dataset: Dataset, moderator: Any) -> None:
    """Records due for a check with the provider, oldest first, each with how to reach them
    and a "verified today" action (review.verify: community and curated records alike)."""
    import datetime as dt

    from aop_map import review
    from aop_map.store import StoreError

    today, months = dt.date.today(), review.review_months()
    due = review.due_for_review(dataset.records, today, months)
    st.markdown(
        f"**{len(due)}** record(s) not verified with the provider in the last "
        f"{months} months (AOP_MAP_REVIEW_MONTHS), oldest first."
    )
    for item in due[:REVIEW_QUEUE_SHOWN]:
        age = (
            "no date at all"
            if item.months_since is None
            else f"{item.months_since} months since "
            + ("last verified" if item.last_verified else "its newest source")
        )
        with st.expander(f"{md_escape(item.name)} · {age}"):
            st.markdown(f"Contact: {md_escape(item.contact)}")
            provider_link("Open the provider page", item.id)
            by = st.text_input(
                "Confirmed with the provider by",
                key=f"review_by_{item.id}",
                max_chars=100,
                placeholder="Your name (and how: phone, email)",
            )
            if st.button(
                "Verified today",
                key=f"review_verify_{item.id}",
                disabled=not by.strip(),
                icon=":material/verified:",
            ):
                try:
                    review.verify(
                        store,
                        item.id,
                        by,
                        moderator.name,
                        today,
                        self_declared=moderator.self_declared,
                    )
                except (StoreError, ValueError, OSError) as error:  # VerifyError too
                    st.error(md_escape(error))
                else:
                    clear_data_cache()
                    st.session_state["moderation_flash"] = (
                        f"Recorded that {md_escape(item.name)} was verified today."
                    )
                    st.rerun()
    if len(due) > REVIEW_QUEUE_SHOWN:
        st.caption(f"{len(due) - REVIEW_QUEUE_SHOWN} more: `aop-map review` lists them all.")


def term_labels(vocabulary: Vocabulary, field: str) -> dict[str, str]:
    """Term id -> label for one vocabulary field, in vocabulary order."""
    return {t.id: t.label for t in vocabulary.terms(field)}


# What the label of a free-text list widget says about how to separate the values.
LIST_HINTS = {"list": " (comma separated)", "lines": " (one per line)"}


def field_widget(
    spec: fields.FieldSpec,
    vocabulary: Vocabulary,
    container: Any = None,
    *,
    number: int | None = None,
) -> Any:
    """Draw the register form's widget of one registry field and return its value.

    The widget kind, label (``*`` when required), help, length and placeholder are the
    field's (aop_map.fields); vocabulary fields offer their terms by label. `number` makes one
    widget of a repeated row (``Postcode 2``). `container` is a column, else the page.
    """
    where = container if container is not None else st
    suffix = f" {number}" if number is not None else ""
    label = spec.label + suffix + LIST_HINTS.get(spec.widget or "", "")
    label += " *" if spec.required else ""
    common: dict[str, Any] = {
        "key": f"register_{spec.name}{suffix.replace(' ', '_')}",
        "help": spec.help or None,
    }
    if spec.widget in ("select", "radio", "multiselect"):
        labels = term_labels(vocabulary, spec.name)
        common["format_func"] = lambda term, labels=labels: labels.get(term, term)
        if spec.widget == "select":  # an optional one starts empty: nothing is guessed
            return where.selectbox(
                label,
                list(labels),
                index=0 if spec.required else None,
                placeholder="Not stated",
                **common,
            )
        if spec.widget == "radio":
            return where.radio(label, list(labels), horizontal=True, **common)
        return where.multiselect(label, list(labels), placeholder="Choose one or more", **common)
    if spec.widget == "yes_no":
        return where.selectbox(label, list(YES_NO), **common)
    if spec.widget in ("textarea", "lines"):
        return where.text_area(label, max_chars=spec.max_chars, **common)
    return where.text_input(
        label, max_chars=spec.max_chars, placeholder=spec.placeholder or None, **common
    )


def field_widgets(
    group: str, vocabulary: Vocabulary, *, columns: int = 1, number: int | None = None
) -> dict[str, Any]:
    """The register form's widgets of one part of a record (``""`` for the top level,
    ``contact``...), laid out in `columns` columns: field name -> value."""
    specs = fields.form_fields(group)
    where = st.columns(columns) if columns > 1 else [None]
    return {
        spec.name: field_widget(spec, vocabulary, where[i % len(where)], number=number)
        for i, spec in enumerate(specs)
    }


@dataclass(frozen=True)
class Filtered:
    """A selection applied: matching rows, the place searched near, and messages."""

    selection: Selection
    search_selection: Selection  # what was applied: 'near' dropped when it was not found
    frame: gpd.GeoDataFrame
    origin: tuple[float, float] | None
    located: GeocodeResult | None
    warnings: tuple[str, ...]
    # With 'near': records that match everything else and serve the searched place's district
    # (or the whole county) but have no venue within the radius -- often the only answer, as
    # countywide services rarely publish one. One row per record; None without 'near'.
    serving: gpd.GeoDataFrame | None = None
    area: str | None = None  # the searched place's district, e.g. "Forest of Dean"


def apply_filters(dataset: Dataset, index: FilterIndex) -> Filtered:
    """Filter the dataset by the current widgets, resolving 'near' offline.

    Remembered for the session until the selection or the data change, so the sidebar and
    the page share one filtering per run.
    """
    selection = current_selection()
    memo_key = (id(dataset), selection)
    memo = st.session_state.get("_filtered")
    if memo is not None and memo[0] == memo_key:
        return memo[1]
    warnings: list[str] = []
    located = origin = None
    applied = selection
    if selection.near:
        located = locate(selection.near)
        if located.lat is None:
            warnings.append(
                f"Could not find “{md_escape(selection.near)}”: "
                f"{md_escape(located.message or 'unknown place')}. Showing results "
                "without the distance filter; try a full postcode such as "
                "GL14 2AA or a town name."
            )
            applied = replace(selection, near="", radius_km=None)
        else:
            origin = (located.lat, located.lon)
    frame = filter_frame(dataset.frame, applied, dataset.vocabulary, origin=origin, index=index)
    serving, area = None, None
    if located is not None and origin is not None:
        serving, area = views.serving_area(
            dataset.frame, dataset.vocabulary, applied, located.district_code, frame, index=index
        )
    result = Filtered(selection, applied, frame, origin, located, tuple(warnings), serving, area)
    st.session_state["_filtered"] = (memo_key, result)
    return result


def show_messages(filtered: Filtered | None = None) -> None:
    """Notes on ignored URL values and 'near' warnings, above a page's content."""
    for note in url_notes():
        st.info(f"{md_escape(note)} (from the link you opened).", icon=":material/info:")
    if filtered:
        for warning in filtered.warnings:
            st.warning(warning, icon=":material/warning:")


def serving_note(filtered: Filtered) -> str:
    """' N more serve <district>.' when a 'near' search found area-wide providers too."""
    if filtered.serving is None or not len(filtered.serving):
        return ""
    return (
        f" **{count_records(filtered.serving)}** more serve {md_escape(filtered.area)} "
        "without a venue nearby."
    )


def show_serving(filtered: Filtered, vocabulary: Vocabulary, limit: int = 20) -> None:
    """The 'also serving your area' list under a 'near' search (nothing without one)."""
    if filtered.serving is None or not len(filtered.serving):
        return
    radius = filtered.search_selection.radius_km or DEFAULT_RADIUS_KM
    st.subheader(f"Also serving {md_escape(filtered.area)}")
    st.caption(
        f"These match your other filters and work across {md_escape(filtered.area)} "
        f"or the whole county, but publish no venue within {radius:g} km of "
        f"{md_escape(filtered.selection.near)}."
    )
    show_nearest(filtered.serving, vocabulary, limit=limit)


# The derived where-columns the directory's grid shows, and their headings.
DIRECTORY_WHERE = {"place": "Where", "district": "District"}


def directory_columns() -> tuple[str, ...]:
    """The directory grid's columns: name, page link, distance, then the registry's
    directory fields and the place and district, in records_table's order."""
    shown = {spec.name for spec in fields.directory_fields()} | set(DIRECTORY_WHERE)
    rest = [c for c in table_columns() if c in shown and c != "name"]
    return ("name", "page", "distance_km", RELEVANCE, "review", *rest)


def _column_config(name: str) -> Any:
    """How the grid shows one column: a heading from the registry, links for addresses."""
    if name in DIRECTORY_WHERE or name in WHERE_COLUMNS:
        return DIRECTORY_WHERE.get(name, name)
    spec = fields.by_name(name)
    if spec.datatype == "url":
        return st.column_config.LinkColumn(spec.label)
    return spec.label


def show_records_table(table: Any, key: str | None = None) -> None:
    """A records_table() as a sortable grid with labelled columns and provider-page links."""
    shown = table.assign(page=[f"provider?id={rid}" for rid in table["id"]])
    columns = [c for c in directory_columns() if c in shown]
    config: dict[str, Any] = {
        c: _column_config(c)
        for c in columns
        if c not in ("name", "page", "distance_km", "review", RELEVANCE)
    }
    config.update(
        {
            "page": st.column_config.LinkColumn(
                "Page", display_text="Open", width="small", help="The provider's page"
            ),
            "name": st.column_config.TextColumn(fields.by_name("name").label, width="large"),
            "distance_km": st.column_config.NumberColumn("Distance (km)", format="%.1f"),
            RELEVANCE: st.column_config.NumberColumn(
                "Relevance",
                format="%.1f",
                width="small",
                help="How well the record matches the search: name, places and topics count "
                "above the description, a typo half; best first",
            ),
            "review": st.column_config.TextColumn(
                "Note",
                help="Ended activity, or a record not verified with the provider within "
                "the review period: it may be out of date",
            ),
        }
    )
    st.dataframe(shown[columns], hide_index=True, width="stretch", key=key, column_config=config)


def show_empty(key: str) -> None:
    """What an empty selection says, with a way out."""
    st.warning(
        "No records match these filters. Try fewer filters, a larger distance or "
        "another search word.",
        icon=":material/search_off:",
    )
    st.button(
        "Clear filters",
        on_click=clear_filters,
        key=key,
        type="primary",
        icon=":material/filter_alt_off:",
    )


def describe_selection(selection: Selection, vocabulary: Vocabulary) -> str:
    """The selection in words (escaped for Markdown), e.g. 'Singing · COPD · near GL14 2AA'."""
    parts = []
    columns = filter_fields()
    for name, terms in selection.chosen:
        labels = vocabulary.labels(columns[name], terms)
        if _yes_only(name):
            labels = [filter_labels().get(name, name)]
        if labels:
            parts.append(" or ".join(labels))
    if selection.q:
        parts.append(f"matching “{selection.q}”")
    if selection.near:
        parts.append(f"within {selection.radius_km:g} km of {selection.near}")
    if selection.include_past:
        parts.append("including past activity")
    if selection.scope:
        parts.append("with examples elsewhere in the UK")
    return md_escape(" · ".join(parts)) if parts else "everything"


def replace_query_params(wanted: dict[str, str]) -> None:
    """Make the URL's query string exactly ``wanted`` (a page about one thing drops filters)."""
    if {k: st.query_params.get_all(k) for k in st.query_params} != {
        k: [v] for k, v in wanted.items()
    }:
        st.query_params.from_dict(wanted)


def set_page_title(title: str | None) -> None:
    """The browser tab's title: the page (or provider) first, then the app."""
    st.set_page_config(page_title=f"{title} · {APP_NAME}" if title else APP_NAME)


# ---------------------------------------------------------------------------------------------
# Layout: navigation, narrow screens, keyboard focus, the selection as a list

# Fixed CSS (no user text ever goes in here). Phones (<= 640 px, Streamlit's own breakpoint for
# stacking columns): metrics two to a row and smaller, so the map starts on the first screen;
# the Directory's wide grid gives way to its list. Everywhere: a keyboard focus ring that shows.
LAYOUT_CSS = """<style>
a:focus-visible, button:focus-visible, [role="button"]:focus-visible, summary:focus-visible,
[data-testid="stPageLink-NavLink"]:focus-visible, input:focus-visible, textarea:focus-visible {
  outline: 3px solid #0072B2 !important; outline-offset: 2px !important;
}
.st-key-app_nav h2 { font-size: 0.875rem; font-weight: 600; padding: 0.75rem 0 0.125rem 0; }
ol.aop-list { list-style: none; padding: 0 !important; margin: 0 !important; }
.aop-list li { padding: 0.4rem 0; border-bottom: 1px solid #d9d9d9; margin: 0; }
.aop-list a { font-weight: 600; }
.aop-list span { display: block; font-size: 0.9rem; }
.st-key-directory_list, .st-key-directory_list_serving, .st-key-directory_list_elsewhere {
  display: none;
}
@media (max-width: 640px) {
  .st-key-map_metrics [data-testid="stHorizontalBlock"] { flex-wrap: wrap; gap: 0.25rem 1rem; }
  .st-key-map_metrics [data-testid="stColumn"] {
    flex: 1 1 40% !important; min-width: 40% !important; width: auto !important;
  }
  .st-key-map_metrics [data-testid="stMetricValue"] { font-size: 1.5rem; }
  .st-key-map_metrics [data-testid="stMetricLabel"] p { font-size: 0.8rem; }
  .st-key-directory_grid, .st-key-directory_grid_serving, .st-key-directory_grid_elsewhere {
    display: none;
  }
  .st-key-directory_list, .st-key-directory_list_serving, .st-key-directory_list_elsewhere {
    display: block;
  }
  h1 { font-size: 1.75rem !important; }
  /* A touch screen always shows a table's toolbar, above the table: room for it, so it never
     covers the heading over the table. */
  [data-testid="stElementContainer"]:has([data-testid="stElementToolbar"]) { margin-top: 2rem; }
}
</style>"""


def apply_layout() -> None:
    """The app's fixed layout CSS (every run: Streamlit drops what a run does not send)."""
    st.html(LAYOUT_CSS)


def render_navigation(sections: dict[str, list[Any]]) -> None:
    """The sidebar menu: each section a heading over links to its pages, in order.

    Drawn here, with st.navigation(position="hidden"), because Streamlit's own sectioned menu
    puts headings inside its list (a <ul> holding <div>s), which screen readers cannot follow
    (axe: list, listitem); these are plain headings and links.
    """
    nav = st.sidebar.container(key="app_nav")
    for header, pages in sections.items():
        nav.header(header, anchor=False)
        for page in pages:
            nav.page_link(page, label=page.title, icon=page.icon, width="stretch")


def in_script_run() -> bool:
    """Whether this code runs in a Streamlit script run (a server session or AppTest), not in a
    bare import such as a loader helper process re-importing the main module."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    return get_script_run_ctx(suppress_warning=True) is not None


def requested_unknown_path(sections: dict[str, list[Any]]) -> str | None:
    """The address's path when it names no page (Streamlit silently runs the home page)."""
    try:
        url = st.context.url
    except Exception:  # no browser context (a bare script run, AppTest)
        return None
    # The home page's url_path reads "" once it is the default; its own path ("map") is the
    # address earlier links and bookmarks use, so it is a page too.
    known = [
        path
        for pages in sections.values()
        for page in pages
        for path in (page.url_path, getattr(page, "_url_path", ""))
    ]
    return views.unknown_path(
        url if isinstance(url, str) else None, str(st.get_option("server.baseUrlPath") or ""), known
    )


def show_not_found(sections: dict[str, list[Any]], path: str) -> None:
    """A page-not-found page: what was asked for, a link home, and every page."""
    st.title("Page not found")
    st.markdown(
        f"There is no page called “{md_escape(path)}” here. It may have moved, or "
        "the address may be mistyped."
    )
    home = next(page for pages in sections.values() for page in pages if not page.url_path)
    st.page_link(home, label="Go to the home page (the energy map)", icon=":material/home:")
    for header, pages in sections.items():
        st.subheader(header, anchor=False)
        for page in pages:
            st.page_link(page, label=page.title, icon=page.icon)


def directory_rows(filtered: Filtered, vocabulary: Vocabulary) -> tuple[Any, Any, Any]:
    """The Directory's tables in its order (views.directory_rows): the Directory shows them,
    and the map lists them under itself, so the map and its text twin always agree."""
    import datetime as dt

    from aop_map.review import review_months

    keep_order = bool(filtered.origin or filtered.search_selection.q)  # nearest, best first
    return views.directory_rows(
        filtered.frame,
        filtered.serving,
        vocabulary,
        with_distance=filtered.origin is not None,
        today=dt.date.today(),
        months=review_months(),
        keep_order=keep_order,
    )


# At most this many records in a page's list: every record on the bundled data; with tens of
# thousands the Directory (a grid) is the way through them all.
LIST_LIMIT = 500


def show_record_list(table: Any, *, limit: int = LIST_LIMIT) -> None:
    """A records_table() as a plain list: name (a link to its page), what, where."""
    items = views.list_items(table.head(limit))
    st.html(views.list_html(items))
    if len(table) > limit:
        st.caption(f"The first {limit} of {len(table)}: the Directory lists them all.")


# ---------------------------------------------------------------------------------------------
# Map tiles: from OpenStreetMap when there is a network, never blocking a page on finding out

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


def tiles_enabled() -> bool:
    """Whether to add the OpenStreetMap tile layer (yes unless known to be unavailable)."""
    return tiles_available() is not False


def show_tiles_note(small: bool = False) -> None:
    """Under a map: where the background comes from, or why there is none."""
    available = tiles_available()
    if available is False and small:
        st.caption(
            "Map tiles are unavailable offline; the map draws district boundaries "
            "and place names instead."
        )
    elif available is False:
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


# ---------------------------------------------------------------------------------------------
# Drawing folium maps: rendered once per selection, for every session

# Rendered maps kept (all sessions together): each is mostly its script, ~80 bytes a point,
# so 0.8 MB at 10,000 records and 8 MB at 100,000.
MAP_CACHE_ENTRIES = 8
_maps: OrderedDict[Hashable, tuple[weakref.ref, dict[str, Any]]] = OrderedDict()
_maps_lock = threading.Lock()


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


# ---------------------------------------------------------------------------------------------
# Map helpers


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


def show_nearest(frame: gpd.GeoDataFrame, vocabulary: Vocabulary, limit: int = 10) -> None:
    """The nearest matches with distance and how to contact them (text, not just the map)."""
    nearest = frame.drop_duplicates("record_id").head(limit)
    for row in nearest.itertuples():
        distance = getattr(row, "distance_km", float("nan"))
        if distance == distance:  # not NaN
            where = f"{distance:.1f} km"
        else:
            areas = vocabulary.labels("areas_served", row.areas_served)
            where = "serves " + md_escape(", ".join(areas)) if areas else "no place given"
        with st.container(border=True):
            st.markdown(
                f"**{md_escape(row.name)}** · {where} · "
                f"{md_escape(vocabulary.label('status', row.status))}"
            )
            details = []
            if row.art_forms:
                details.append(
                    "Art forms: " + ", ".join(vocabulary.labels("art_forms", row.art_forms))
                )
            if row.conditions:
                details.append(
                    "Conditions: " + ", ".join(vocabulary.labels("conditions", row.conditions))
                )
            if details:
                st.markdown(md_escape(" · ".join(details)))
            contact = views.contact_markdown(row.website, row.email, row.phone)
            st.markdown(
                "Contact: " + contact
                if contact
                else "Contact details are not published here; the provider page says how "
                "to reach them."
            )
            st.page_link(
                "pages/provider.py",
                label="Provider page",
                icon=":material/arrow_forward:",
                query_params={"id": row.record_id},
            )


# ---------------------------------------------------------------------------------------------
# Moderator authentication and limits (counted on the server: see aop_map/limits.py)

PASSWORD_ENV = "AOP_MAP_MODERATOR_PASSWORD"
# A shared password is guessed online only (limits.py), but a short one needs few guesses.
MIN_PASSWORD_LENGTH = 12


@dataclass(frozen=True)
class Moderator:
    """Who is moderating: a verified email (OIDC), or a name typed at a password sign-in."""

    name: str
    self_declared: bool


def client_address() -> str:
    """This session's client, as a limits key (UNKNOWN_CLIENT on localhost and in tests).

    The TCP peer address: behind a reverse proxy every visitor has the proxy's address, so
    per-client limits act as one shared limit there.
    """
    try:
        address = st.context.ip_address
    except Exception:  # no client context (a bare script run)
        address = None
    # AppTest's stand-in client answers with a mock object, a new one per session.
    return client_key(address if isinstance(address, str) else None)


def password_matches(given: str, expected: str) -> bool:
    """Constant-time comparison, so response time does not reveal how much matched."""
    import hmac

    return bool(expected) and hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _secret(name: str) -> object:
    try:
        return st.secrets.get(name)
    except Exception:  # no secrets.toml at all
        return None


def password_sign_in(
    store: SubmissionStore, name: str, password: str, expected: str, client: str
) -> tuple[bool, str | None]:
    """Check a password sign-in against the server-side limits; audit it unless refused.

    Returns (signed in, message to show). The attempt is counted before the password is
    compared, so parallel guesses cannot all slip in; a success takes its attempt back.
    """
    entries = sign_in_entries(client)
    outcome = store.limits.attempt(*entries)
    if outcome.refused is not None:
        return False, (
            "Too many failed sign-ins. Try again in "
            f"{outcome.refused.wait_text}; the password was not checked."
        )
    ok = bool(name.strip()) and password_matches(password, expected)
    store.record_sign_in(name, ok=ok, client=client)
    if ok:
        per_client, in_total = entries
        store.limits.forgive(per_client, forget=True)
        store.limits.forgive(in_total)
        return True, None
    if outcome.started is not None:
        return False, (
            "Wrong name or password. Too many failed sign-ins: the next try must "
            f"wait {outcome.started.wait_text}."
        )
    return False, "Wrong name or password."


def moderator_login(store: SubmissionStore) -> Moderator | None:
    """The signed-in moderator, or None after showing how to sign in (or why not).

    With OIDC configured in .streamlit/secrets.toml ([auth] plus a `moderators` list of
    emails) it uses st.login; otherwise a password of at least MIN_PASSWORD_LENGTH characters
    from $AOP_MAP_MODERATOR_PASSWORD or the `moderator_password` secret, whose failed tries
    are limited per client and in total and written to the audit log. The password is never
    logged or shown.
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
        return Moderator(email, self_declared=False)
    expected = settings.text(PASSWORD_ENV) or str(_secret("moderator_password") or "")
    if not expected:
        st.info(
            f"Moderation is not set up on this server. Set {PASSWORD_ENV} (or configure "
            "sign-in in .streamlit/secrets.toml) and restart the app."
        )
        return None
    if len(expected) < MIN_PASSWORD_LENGTH:
        st.error(
            f"Moderation is not set up: the password must be at least "
            f"{MIN_PASSWORD_LENGTH} characters. Set a longer {PASSWORD_ENV} (or "
            "moderator_password secret) and restart the app."
        )
        return None
    if st.session_state.get("moderator"):
        return Moderator(st.session_state["moderator"], self_declared=True)
    with st.form("moderator_login"):
        name = st.text_input("Your name (for the audit log)", max_chars=80)
        password = st.text_input("Moderator password", type="password")
        if st.form_submit_button("Sign in", type="primary"):
            ok, message = password_sign_in(store, name, password, expected, client_address())
            if ok:
                st.session_state["moderator"] = " ".join(name.split())
                st.rerun()
            st.error(message)
    return None


# ---------------------------------------------------------------------------------------------
# The provider page's body: the provider page and the Register page's preview draw the same

# The county's arts umbrella body: who to ask when a provider publishes no contact details.
UMBRELLA_ID = "create-gloucestershire"


def put_record_in_url(record_id: str) -> None:
    """Make the address ``?id=<record_id>`` (nothing else), sent on every run.

    A link to the page already shown (``st.page_link`` from one provider to another) reruns it
    with the new query string but leaves the address bar alone, and a write of the same values
    is skipped by ``replace_query_params``. Sent always, the browser compares it with its
    address and pushes a history entry when they differ (the link followed, so Back returns),
    else does nothing.
    """
    if record_id:
        st.query_params.from_dict({"id": record_id})
    else:
        replace_query_params({})


def provider_link(name: str, record_id: str, icon: str = ":material/arrow_forward:") -> None:
    """A link to another record's page that changes the address (``?id=``) as it goes:
    reload, bookmarks, sharing and Back all follow the record shown."""
    st.page_link(
        "pages/provider.py", label=md_escape(name), icon=icon, query_params={"id": record_id}
    )


def show_provider(
    record: Any, rows: gpd.GeoDataFrame, dataset: Dataset, *, map_key: str | None = None
) -> None:
    """Everything public about one record, as the public sees it: title, facts, contact
    (email and phone as links when published), where (with directions) and a small map,
    sources. `rows` are the record's geocoded rows; `dataset` gives the vocabulary and the
    records its organisation and partners may link to."""
    from aop_map.mapping import build_location_map

    vocab = dataset.vocabulary
    st.title(md_escape(record.name))
    st.markdown(views.headline(record, vocab))
    if record.summary:
        st.markdown(md_escape(record.summary))
    main, side = st.columns([3, 2], gap="large")
    with main:
        _show_provider_facts(record, dataset)
    with side:
        _show_provider_contact(record, dataset)
        st.subheader("Where")
        for number, (line, directions) in enumerate(views.located_lines(rows)):
            st.markdown(line)
            if directions:
                st.link_button(
                    "Directions",
                    directions,
                    icon=":material/directions:",
                    key=f"directions_{map_key or record.id}_{number}",
                )
        if rows.geometry.notna().any():
            show_map(
                lambda: build_location_map(rows, vocab, tiles=tiles_enabled()),
                key=map_key or f"location_map_{record.id}",
                height=300,
                use_container_width=True,
                returned_objects=[],
            )
            show_tiles_note(small=True)
    st.subheader("Sources")
    st.markdown(views.source_list(record.sources))
    st.caption(f"{views.dates_sentence(record)} Record id: {md_escape(record.id)}.")


def _show_provider_facts(record: Any, dataset: Dataset) -> None:
    if record.description:
        st.subheader("About")
        st.markdown("\n\n".join(views.paragraphs(record.description)))
    st.subheader("What, who and how")
    for label, values in fields.facts(record, dataset.vocabulary):
        st.markdown(f"**{label}:** " + (md_escape(", ".join(values)) if values else "not stated"))
    related = views.related_records(record, dataset.records)
    if related:
        st.markdown("**On this map too:**")
        for name, record_id in related:
            provider_link(name, record_id)
    st.subheader("Readiness")
    st.markdown("\n\n".join(views.readiness_lines(record.readiness)))
    if record.notes:
        st.subheader("Notes")
        st.markdown("\n\n".join(views.paragraphs(record.notes)))


def _show_provider_contact(record: Any, dataset: Dataset) -> None:
    st.subheader("Contact")
    contact = record.contact
    published = views.contact_markdown(contact.website, contact.email, contact.phone)
    if record.publish_contact and published:
        if contact.name:
            st.markdown(md_escape(contact.name))
        st.markdown(published)
        return
    st.markdown(
        "This provider has not published contact details here. Commissioners "
        "can reach Gloucestershire providers through Create Gloucestershire, the "
        "county's arts umbrella body, or through the partners and sources listed."
    )
    if dataset.record(UMBRELLA_ID) is not None and record.id != UMBRELLA_ID:
        provider_link("Create Gloucestershire", UMBRELLA_ID)


def show_report_form(store: SubmissionStore, record: Any) -> None:
    """ "Report a problem with this listing": topic, message, optional email for a reply;
    a honeypot, and the Register form's server-side limit (registration.send_report)."""
    from aop_map import registration as reg
    from aop_map.store import MAX_REPORT_EMAIL, MAX_REPORT_MESSAGE, REPORT_TOPICS

    sent = st.session_state.get("report_sent")
    with st.expander("Report a problem with this listing", expanded=bool(sent)):
        if sent and sent[0] == record.id:
            st.success(f"Thank you: your report {sent[1]} was sent to the moderators.")
        with st.form(f"report_form_{record.id}", clear_on_submit=True):
            values = {
                "topic": st.radio(
                    "What is wrong?",
                    list(REPORT_TOPICS),
                    format_func=REPORT_TOPICS.get,
                    key="report_topic",
                ),
                "message": st.text_area(
                    "What should we know?", max_chars=MAX_REPORT_MESSAGE, key="report_message"
                ),
                "email": st.text_input(
                    "Your email, if you would like a reply (optional; only the moderators see it)",
                    max_chars=MAX_REPORT_EMAIL,
                    key="report_email",
                ),
                reg.HONEYPOT: st.text_input(
                    "Leave this field empty", key="report_hp", label_visibility="collapsed"
                ),
            }
            if st.form_submit_button("Send the report"):
                result = reg.send_report(store, record.id, values, client=client_address())
                if result.reference is None:
                    st.error(md_escape(result.error))
                else:
                    st.session_state["report_sent"] = (record.id, result.reference)
                    st.rerun()
    st.html("<style>.st-key-report_hp{position:absolute;left:-9999px}</style>")


def show_problem_reports(store: SubmissionStore, dataset: Dataset, moderator: Moderator) -> None:
    """The moderation page's open problem reports, each beside its record's name and link,
    with a box to say how it was resolved (who and when are recorded by the store)."""
    from aop_map.store import StoreError

    if flash := st.session_state.pop("report_flash", None):
        st.success(flash)
    reports = store.reports("open")
    st.markdown(f"**{len(reports)}** open problem report(s) from provider pages.")
    for report in reports:
        record = dataset.record(report.record_id)
        with st.expander(
            views.report_title(report, record.name if record else None), expanded=True
        ):
            if record is not None:
                provider_link(record.name, record.id)
            st.code(report.message, language=None, wrap_lines=True)  # shown, never rendered
            st.markdown(views.report_details(report))
            how = st.text_input(
                "How was it resolved?",
                key=f"how_{report.id}",
                max_chars=500,
                placeholder="e.g. record updated; no change needed",
            )
            if st.button("Mark resolved", key=f"resolve_{report.id}", disabled=not how.strip()):
                try:
                    store.resolve_report(
                        report.id,
                        moderator.name,
                        how.strip(),
                        self_declared=moderator.self_declared,
                    )
                except StoreError as error:
                    st.error(md_escape(error))
                else:
                    st.session_state["report_flash"] = f"Resolved {report.id}."
                    st.rerun()


def prefill_register_form(values: dict[str, Any]) -> None:
    """Put form values (registration.form_values) into the Register form's widgets."""
    for name, value in values.items():
        if name == "locations":
            for number, row in enumerate(value, start=1):
                for field_name, cell in row.items():
                    st.session_state[f"register_{field_name}_{number}"] = cell
        elif name == "publish_contact":
            st.session_state["register_publish_contact"] = bool(value)
        else:
            st.session_state[f"register_{name}"] = value


# ---------------------------------------------------------------------------------------------
# Shortlist: record ids kept in session state and in the shortlist page's URL (`list=a,b`)

SHORTLIST_KEY = "_shortlist"
# Hides every control when the page is printed, and keeps each activity on one sheet of paper.
# Fixed CSS, no user text. Streamlit scrolls inside its own containers: printing needs them to
# grow to their content, or only the first screen prints.
PRINT_CSS = """<style>
@media print {
  [data-testid="stSidebar"], [data-testid="stHeader"], [data-testid="stToolbar"],
  [data-testid="stDecoration"], [data-testid="stSidebarCollapsedControl"],
  [data-testid="stExpandSidebarButton"], [data-testid="stStatusWidget"],
  [data-testid="stBottom"], .st-key-shortlist_controls, .stButton, .stDownloadButton,
  .stLinkButton, [data-testid="stPageLink"], [data-testid="stBaseButton-secondary"], button,
  [data-testid="stAlert"] { display: none !important; }
  html, body, [data-testid="stApp"], [data-testid="stAppViewContainer"],
  [data-testid="stMain"], [data-testid="stMainBlockContainer"] {
    overflow: visible !important; height: auto !important; position: static !important; }
  [data-testid="stMainBlockContainer"] { padding: 0 !important; max-width: none !important; }
  [class*="st-key-sheet_entry_"] { break-inside: avoid; page-break-inside: avoid; }
  * { color: #000 !important; }
}
</style>"""


def restore_shortlist(dataset: Dataset) -> None:
    """Run every run in app.py, before any page writes its URL: a `list` parameter the session
    has not seen yet (a shared link, Back) replaces the shortlist; unknown ids are noted."""
    from aop_map import shortlist as sl

    given = st.query_params.get_all(sl.PARAM)
    if not given or given == st.session_state.get("_shortlist_synced"):
        return
    ids, notes = sl.parse_param(given, lambda rid: dataset.record(rid) is not None)
    st.session_state[SHORTLIST_KEY] = ids
    st.session_state["_shortlist_notes"] = notes
    st.session_state["_shortlist_synced"] = given


def shortlist_ids() -> tuple[str, ...]:
    """The record ids on the shortlist, in the order they were added."""
    return tuple(st.session_state.get(SHORTLIST_KEY, ()))


def shortlist_params() -> dict[str, str]:
    """The shortlist as URL parameters ({} when empty), noted as what the URL now holds:
    pages that write their URL (the filters, the shortlist page) add it."""
    from aop_map import shortlist as sl

    value = sl.format_param(shortlist_ids())
    st.session_state["_shortlist_synced"] = [value] if value else []
    return {sl.PARAM: value} if value else {}


def write_shortlist_url() -> None:
    """Make the URL hold the shortlist (the shortlist page: its address is the share link)."""
    replace_query_params(shortlist_params())


def _shortlist_toggle(record_id: str) -> None:
    from aop_map import shortlist as sl

    ids = shortlist_ids()
    change = sl.remove if record_id in ids else sl.add
    st.session_state[SHORTLIST_KEY] = change(ids, record_id)


def shortlist_button(record_id: str, *, key: str | None = None, link: bool = True) -> None:
    """'Add to shortlist' (or 'Remove from shortlist') for one record, and a link to the
    shortlist page while it holds anything."""
    listed = record_id in shortlist_ids()
    st.button(
        "Remove from shortlist" if listed else "Add to shortlist",
        key=key or f"shortlist_toggle_{record_id}",
        on_click=_shortlist_toggle,
        args=(record_id,),
        icon=":material/bookmark_remove:" if listed else ":material/bookmark_add:",
    )
    if link:
        shortlist_link()


def shortlist_link() -> None:
    """A link to the shortlist page saying how many it holds (nothing when empty)."""
    count = len(shortlist_ids())
    if count:
        st.page_link(
            "pages/shortlist.py", label=f"Open the shortlist ({count})", icon=":material/bookmarks:"
        )


def _shortlist_add_chosen(widget_key: str) -> None:
    from aop_map import shortlist as sl

    ids = shortlist_ids()
    for record_id in st.session_state.get(widget_key) or ():
        ids = sl.add(ids, record_id)
    st.session_state[SHORTLIST_KEY] = ids
    st.session_state[widget_key] = []


def shortlist_adder(table: Any, key: str = "shortlist_pick") -> None:
    """Row actions for a records_table(): choose rows by name, add them to the shortlist."""
    names = dict(zip(table["id"], table["name"], strict=False))
    listed = set(shortlist_ids())
    choices = [rid for rid in names if rid not in listed]
    with st.container(key=f"{key}_box"):
        pick, add = st.columns([4, 1], vertical_alignment="bottom")
        pick.multiselect(
            "Add to shortlist",
            choices,
            key=key,
            format_func=names.get,
            placeholder="Choose activities to print or share",
        )
        add.button(
            "Add to shortlist",
            key=f"{key}_add",
            on_click=_shortlist_add_chosen,
            args=(key,),
            icon=":material/bookmark_add:",
            width="stretch",
        )
        shortlist_link()


@st.cache_resource(show_spinner=False, max_entries=1)
def _sheet_outlines() -> Any:
    from aop_map import activity_sheet

    outlines = activity_sheet.load_outlines()
    return outlines, activity_sheet.sketch(outlines)


def sheet_outlines() -> tuple[Any, Any]:
    """The districts for the sheet's locator maps (and their sketch); empty if unreadable."""
    try:
        return _sheet_outlines()
    except Exception:  # the maps are context: the sheet works without them
        logging.getLogger(__name__).exception("cannot read the district boundaries")
        return {}, []


@st.cache_data(show_spinner=False, max_entries=16)
def sheet_pdf(entries: tuple[Any, ...], link: str, made: str) -> bytes:
    """The activity sheet PDF of some entries (cached: a sheet is built once per list)."""
    import datetime as dt

    from aop_map import activity_sheet

    return activity_sheet.build_pdf(
        entries, outlines=sheet_outlines()[0], link=link, made=dt.date.fromisoformat(made)
    )


def show_sheet_entry(entry: Any, number: int) -> None:
    """One activity of the sheet: its facts beside a small locator map; a remove button."""
    from aop_map import activity_sheet

    with st.container(key=f"sheet_entry_{number}", border=True):
        text, picture = st.columns([4, 1])
        text.subheader(md_escape(entry.title), anchor=False)
        text.markdown(
            "\n\n".join(f"**{label}:** {md_escape(value)}" for label, value in entry.rows())
        )
        outlines, drawn = sheet_outlines()
        if outlines:
            picture.image(
                activity_sheet.locator_svg(entry, outlines, drawn),
                caption="Where: dot = venue, grey = districts served",
                width="stretch",
            )
        with text:
            shortlist_button(entry.record_id, key=f"shortlist_remove_{number}", link=False)
