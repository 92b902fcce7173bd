"""The shared sidebar filters: URL <-> widgets (session state) <-> selection, applied once
per run; it draws no map and no table.

State flows one way per run: the URL sets the filter widgets when a session starts, or when a
link with filters is followed inside the app (the coverage page's "open the map" links); after
that the widgets are the truth and every run writes them back to the URL, so the address bar
can always be copied and shared.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import geopandas as gpd
import streamlit as st

from aop_map import fields, views
from aop_map.dataset import Dataset
from aop_map.filtering import (
    MAX_RADIUS_KM,
    SCOPE_UK,
    FilterIndex,
    Selection,
    count_options,
    count_records,
    filter_fields,
    filter_frame,
    selection_from_params,
    selection_to_params,
    suggest_terms,
    url_params,
)
from aop_map.geocoding import GeocodeResult
from aop_map.text import md_escape
from aop_map.ui.data import locate
from aop_map.ui.shortlist import shortlist_params
from aop_map.vocabulary import Vocabulary

DEFAULT_RADIUS_KM = 10
# url_path of the pages whose content follows the sidebar filters ("" is the home page, the map).
FILTERED_PAGES = ("", "map", "directory", "coverage")
KEY_PREFIX = "filter_"


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


def term_labels(vocabulary: Vocabulary, field: str) -> dict[str, str]:
    """Term id -> label for one vocabulary field, in vocabulary order."""
    return {t.id: t.label for t in vocabulary.terms(field)}


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
