"""Register your activity (public form): a listing that a moderator reviews before it appears."""
import streamlit as st

st.title("Register your activity")
