"""Fact sheets: short explanations of arts on prescription, commissioning and taking part."""

from pathlib import Path

import streamlit as st

FACTSHEETS = Path(__file__).resolve().parent.parent / "content" / "factsheets"

st.title("Fact sheets")
st.caption("Short guides for commissioners, artists and anyone curious, written from the "
           "public documents each sheet lists under Sources.")
sheets = sorted(p for p in FACTSHEETS.glob("*.md") if p.name.lower() != "readme.md")
if not sheets:
    st.error(f"No fact sheets found in {FACTSHEETS}.")
    st.stop()
titles = []
for path in sheets:
    first = path.read_text(encoding="utf-8").splitlines()[0] if path.stat().st_size else ""
    titles.append(first.lstrip("# ").strip() or path.stem)
for tab, path in zip(st.tabs(titles), sheets, strict=True):
    with tab:
        st.markdown(path.read_text(encoding="utf-8"))
