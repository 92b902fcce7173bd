"""The app's frame: entry-point handover, setting errors, navigation, layout CSS, page
titles, the address bar and page not found; it loads no data and draws no page content.
"""

from __future__ import annotations

import contextlib
import contextvars
import runpy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import streamlit as st

from aop_map import settings, views
from aop_map.text import md_escape

APP_NAME = "Gloucestershire arts and health map"

ENTRYPOINT = Path(__file__).resolve().parents[2] / "app.py"
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


def replace_query_params(wanted: dict[str, str]) -> None:
    """Make the URL's query string exactly ``wanted`` (a page about one thing drops filters)."""
    if {k: st.query_params.get_all(k) for k in st.query_params} != {
        k: [v] for k, v in wanted.items()
    }:
        st.query_params.from_dict(wanted)


def set_page_title(title: str | None) -> None:
    """The browser tab's title: the page (or provider) first, then the app."""
    st.set_page_config(page_title=f"{title} · {APP_NAME}" if title else APP_NAME)


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
