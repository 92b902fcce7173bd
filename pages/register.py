"""Register your activity (public): a listing that a moderator reviews before it appears."""

import streamlit as st

from aop_map import registration as reg
from aop_map import ui
from aop_map.store import SubmissionStore

dataset, index = ui.get_dataset()
store = SubmissionStore()

st.title("Register your arts and health activity")
st.markdown(reg.INTRO)
if ui.show_receipt():  # just sent: the reference and edit code, nothing else
    st.stop()
updating = ui.updating_listing()
ui.register_form(dataset, updating=bool(updating))
ui.show_preview(dataset, store, updating)
st.divider()
ui.show_update_or_withdraw(store)
