"""Fact sheets: short explanations of arts on prescription, commissioning and taking part."""

from pathlib import Path

import streamlit as st

from aop_map import ui, views

FACTSHEETS = Path(__file__).resolve().parent.parent / "content" / "factsheets"

ui.ensure_entrypoint()  # the one page that draws before asking for the data
st.title("Fact sheets")
st.caption(
    "Short guides for commissioners, artists and anyone curious, written in our own "
    "words from the public documents each sheet lists under Sources."
)
sheets = sorted(p for p in FACTSHEETS.glob("*.md") if p.name.lower() != "readme.md")
if not sheets:
    st.error("No fact sheets found.")
    st.stop()

read = [views.factsheet(p.read_text(encoding="utf-8"), p.stem.replace("-", " ")) for p in sheets]
for tab, (title, body) in zip(st.tabs([title for title, _ in read]), read, strict=True):
    with tab:
        st.header(title)  # the sheet's own heading, one level below the page's
        st.markdown(body)
