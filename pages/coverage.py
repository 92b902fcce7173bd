"""Coverage and gaps (for commissioners): condition × art form counts and where there is none."""

import streamlit as st

from aop_map import ui

dataset, index = ui.get_dataset()
filtered = ui.apply_filters(dataset, index)

st.title("Coverage and gaps")
st.caption(
    "How many providers and activities there are for each health condition and art form, where "
    "there are none, and how provision spreads across districts. A provider counts for a "
    "district when it is located there, names it among the areas it serves, or works countywide."
)
ui.show_messages(filtered)
ui.show_gaps(dataset, filtered)
ui.show_matrix(dataset, filtered)
ui.show_spread(dataset, filtered)
