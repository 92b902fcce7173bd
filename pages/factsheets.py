"""Fact sheets: short explanations of arts on prescription, commissioning and taking part."""

import re
from pathlib import Path

import streamlit as st

FACTSHEETS = Path(__file__).resolve().parent.parent / "content" / "factsheets"

st.title("Fact sheets")
st.caption("Short guides for commissioners, artists and anyone curious, written in our own "
           "words from the public documents each sheet lists under Sources.")
sheets = sorted(p for p in FACTSHEETS.glob("*.md") if p.name.lower() != "readme.md")
if not sheets:
    st.error(f"No fact sheets found in {FACTSHEETS}.")
    st.stop()

titles, bodies = [], []
for path in sheets:
    # The project's own Markdown (reviewed like code), so it is rendered as written.
    lines = path.read_text(encoding="utf-8").splitlines()
    heading = lines[0] if lines and lines[0].startswith("# ") else ""
    titles.append(heading.removeprefix("# ").strip() or path.stem.replace("-", " "))
    bodies.append("\n".join(lines[1:] if heading else lines))
for tab, title, body in zip(st.tabs(titles), titles, bodies, strict=True):
    with tab:
        st.header(title)  # the sheet's own heading, one level below the page's
        st.markdown(re.sub(r"^(#{2,5}) ", r"#\1 ", body, flags=re.MULTILINE))  # and its parts
