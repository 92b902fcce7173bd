"""aop-map: the Streamlit entry point. Page config, navigation and shared filters; nothing else."""

import streamlit as st

from aop_map import ui

st.set_page_config(
    page_title="Arts and health energy map · Gloucestershire",
    page_icon="🎨",
    layout="wide",
    initial_sidebar_state="expanded",
)

PAGES = {
    "Find activity": [
        st.Page("pages/map.py", title="Energy map", icon="🗺️", url_path="map", default=True),
        st.Page("pages/directory.py", title="Directory", icon="📋", url_path="directory"),
        st.Page("pages/coverage.py", title="Coverage and gaps", icon="📊", url_path="coverage"),
        st.Page("pages/provider.py", title="Provider", icon="🏷️", url_path="provider"),
    ],
    "Take part": [
        st.Page("pages/register.py", title="Register your activity", icon="✍️",
                url_path="register"),
        st.Page("pages/moderate.py", title="Moderation", icon="🔐", url_path="moderate"),
    ],
    "Learn": [
        st.Page("pages/factsheets.py", title="Fact sheets", icon="📚", url_path="factsheets"),
        st.Page("pages/about.py", title="About and data", icon="ℹ️", url_path="about"),
    ],
}

page = st.navigation(PAGES)
dataset, index = ui.get_dataset()
ui.init_filters_from_url(dataset)
if page.url_path in ui.FILTERED_PAGES or page.url_path == "":
    ui.render_filters(dataset, index)
page.run()
