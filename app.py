"""aop-map: the Streamlit entry point. Page config, navigation and shared filters; nothing else."""

import streamlit as st

from aop_map import ui

# "auto": the sidebar starts open on a wide screen and closed on a phone, where it would cover
# the page.
st.set_page_config(
    page_title=ui.APP_NAME, page_icon="🎨", layout="wide", initial_sidebar_state="auto"
)

PAGES = {
    "Find activity": [
        st.Page(
            "pages/map.py", title="Energy map", icon=":material/map:", url_path="map", default=True
        ),
        st.Page(
            "pages/directory.py", title="Directory", icon=":material/list:", url_path="directory"
        ),
        st.Page(
            "pages/coverage.py",
            title="Coverage and gaps",
            icon=":material/grid_on:",
            url_path="coverage",
        ),
        st.Page(
            "pages/provider.py",
            title="Provider pages",
            icon=":material/storefront:",
            url_path="provider",
        ),
        st.Page(
            "pages/shortlist.py",
            title="Shortlist",
            icon=":material/bookmarks:",
            url_path="shortlist",
        ),
    ],
    "Take part": [
        st.Page(
            "pages/register.py",
            title="Register your activity",
            icon=":material/edit_note:",
            url_path="register",
        ),
        st.Page(
            "pages/moderate.py", title="Moderation", icon=":material/lock:", url_path="moderate"
        ),
    ],
    "Learn": [
        st.Page(
            "pages/factsheets.py",
            title="Fact sheets",
            icon=":material/menu_book:",
            url_path="factsheets",
        ),
        st.Page("pages/about.py", title="About and data", icon=":material/info:", url_path="about"),
    ],
}


def main() -> None:
    """Frame, menu, shared filters, then the chosen page."""
    with (
        ui.app_frame()
    ):  # settings checked; pages know they run inside app.py (ui.ensure_entrypoint)
        page = st.navigation(PAGES, position="hidden")  # the menu: ui.render_navigation
        ui.apply_layout()
        ui.render_navigation(PAGES)
        unknown = ui.requested_unknown_path(PAGES)
        ui.set_page_title("Page not found" if unknown else getattr(page, "title", None))
        if unknown:
            ui.show_not_found(PAGES, unknown)
            st.stop()
        dataset, index = ui.get_dataset()
        ui.restore_filters(dataset)
        ui.restore_shortlist(dataset)  # before a page's filters rewrite the URL
        if page.url_path in ui.FILTERED_PAGES:
            ui.render_filters(dataset, index)
        page.run()


# Only inside a script run: the data loader's helper processes import this file as their main
# module (multiprocessing re-imports Streamlit's script module there), and must neither draw
# pages nor load the data again.
if ui.in_script_run():
    main()
