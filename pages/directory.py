"""Directory: the current selection as a sortable table, with downloads (the map's text twin)."""

import streamlit as st

from aop_map import ui
from aop_map.filtering import count_records, records_table, to_geojson

dataset, index = ui.get_dataset()
filtered = ui.apply_filters(dataset, index)
vocabulary = dataset.vocabulary

st.title("Directory of providers and activities")
ui.show_messages(filtered)
records = count_records(filtered.frame)
st.markdown(f"**{records}** of {count_records(dataset.frame)} records match: "
            f"{ui.describe_selection(filtered.search_selection, vocabulary)}."
            + (" Nearest first." if filtered.origin else ""))

if records == 0:
    ui.show_empty("clear_filters_empty_directory")
    st.stop()

with_distance = filtered.origin is not None
table = records_table(filtered.frame, vocabulary, with_distance=with_distance)
shown = table.assign(page=[f"provider?id={rid}" for rid in table["id"]])
columns = ["page", "name", *(["distance_km"] if "distance_km" in shown else []), "kind",
           "status", "art_forms", "conditions", "age_groups", "place", "district",
           "areas_served", "delivery", "referral_routes", "commissioning_models", "website",
           "email", "phone", "last_verified"]
st.dataframe(
    shown[[c for c in columns if c in shown]],
    hide_index=True,
    width="stretch",
    column_config={
        "page": st.column_config.LinkColumn("Page", display_text="Open", width="small",
                                            help="The provider's page"),
        "name": st.column_config.TextColumn("Name", width="medium", pinned=True),
        "distance_km": st.column_config.NumberColumn("Distance (km)", format="%.1f"),
        "kind": "Kind", "status": "Status", "art_forms": "Art forms",
        "conditions": "Health conditions", "age_groups": "Age groups", "place": "Where",
        "district": "District", "areas_served": "Areas served", "delivery": "Delivery",
        "referral_routes": "Referral routes", "commissioning_models": "Commissioning",
        "website": st.column_config.LinkColumn("Website"), "email": "Email", "phone": "Phone",
        "last_verified": "Last verified",
    },
)
st.caption("Click a column heading to sort. Contact details appear only when the provider has "
           "agreed to publish them; the provider page has the rest.")
left, right = st.columns(2)
left.download_button("Download this selection as CSV", table.to_csv(index=False),
                     file_name="aop-map-selection.csv", mime="text/csv", width="stretch",
                     icon=":material/download:")
right.download_button("Download this selection as GeoJSON",
                      to_geojson(filtered.frame, vocabulary),
                      file_name="aop-map-selection.geojson", mime="application/geo+json",
                      width="stretch", icon=":material/download:")
