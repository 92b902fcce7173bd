"""Moderation (moderators only)."""
import streamlit as st

st.title("Moderation")
