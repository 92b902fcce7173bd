"""Directory: the current selection as a sortable table, with downloads (the map's text twin)."""

import streamlit as st

from aop_map import ui
from aop_map.filtering import count_records, records_table, to_geojson

dataset, index = ui.get_dataset()
notes = ui.init_filters_from_url(dataset)
filtered = ui.apply_filters(dataset, index)
ui.sync_url(filtered.selection)

st.title("Directory of providers and activities")
ui.show_messages(notes, filtered)
records = count_records(filtered.frame)
total = count_records(dataset.frame)
st.markdown(f"**{records}** of {total} records match the filters."
            + (" Nearest first." if filtered.origin else ""))

if records == 0:
    st.warning("Nothing matches these filters.")
    st.button("Clear filters", on_click=ui.clear_filters, key="clear_filters_empty")
else:
    table = records_table(filtered.frame, dataset.vocabulary,
                          with_distance=filtered.origin is not None)
    shown = table.assign(page=[f"provider?id={rid}" for rid in table["id"]])
    columns = ["page", "name", *(["distance_km"] if "distance_km" in shown else []),
               "kind", "status", "art_forms", "conditions", "age_groups", "areas_served",
               "place", "district", "referral_routes", "last_verified"]
    st.dataframe(
        shown[columns],
        hide_index=True,
        width="stretch",
        column_config={
            "page": st.column_config.LinkColumn("Page", display_text="Open", width="small"),
            "name": st.column_config.TextColumn("Name", width="medium"),
            "distance_km": st.column_config.NumberColumn("Distance (km)", format="%.1f"),
            "kind": "Kind", "status": "Status", "art_forms": "Art forms",
            "conditions": "Health conditions", "age_groups": "Age groups",
            "areas_served": "Areas served", "place": "Where", "district": "District",
            "referral_routes": "Referral routes", "last_verified": "Last verified",
        },
    )
    st.caption("Click a column heading to sort. Contact details appear on a provider's page "
               "when the provider has agreed to publish them.")
    left, right = st.columns(2)
    left.download_button("Download this selection as CSV", table.to_csv(index=False),
                         file_name="aop-map-selection.csv", mime="text/csv",
                         width="stretch")
    right.download_button("Download this selection as GeoJSON",
                          to_geojson(filtered.frame, dataset.vocabulary),
                          file_name="aop-map-selection.geojson", mime="application/geo+json",
                          width="stretch")
