"""The Register form's widgets, drawn from the field registry, and their prefill; checking
and storing a listing is aop_map.registration's.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from aop_map import fields
from aop_map.registration import YES_NO
from aop_map.ui.filters import term_labels
from aop_map.vocabulary import Vocabulary

# What the label of a free-text list widget says about how to separate the values.
LIST_HINTS = {"list": " (comma separated)", "lines": " (one per line)"}


def field_widget(
    spec: fields.FieldSpec,
    vocabulary: Vocabulary,
    container: Any = None,
    *,
    number: int | None = None,
) -> Any:
    """Draw the register form's widget of one registry field and return its value.

    The widget kind, label (``*`` when required), help, length and placeholder are the
    field's (aop_map.fields); vocabulary fields offer their terms by label. `number` makes one
    widget of a repeated row (``Postcode 2``). `container` is a column, else the page.
    """
    where = container if container is not None else st
    suffix = f" {number}" if number is not None else ""
    label = spec.label + suffix + LIST_HINTS.get(spec.widget or "", "")
    label += " *" if spec.required else ""
    common: dict[str, Any] = {
        "key": f"register_{spec.name}{suffix.replace(' ', '_')}",
        "help": spec.help or None,
    }
    if spec.widget in ("select", "radio", "multiselect"):
        labels = term_labels(vocabulary, spec.name)
        common["format_func"] = lambda term, labels=labels: labels.get(term, term)
        if spec.widget == "select":  # an optional one starts empty: nothing is guessed
            return where.selectbox(
                label,
                list(labels),
                index=0 if spec.required else None,
                placeholder="Not stated",
                **common,
            )
        if spec.widget == "radio":
            return where.radio(label, list(labels), horizontal=True, **common)
        return where.multiselect(label, list(labels), placeholder="Choose one or more", **common)
    if spec.widget == "yes_no":
        return where.selectbox(label, list(YES_NO), **common)
    if spec.widget in ("textarea", "lines"):
        return where.text_area(label, max_chars=spec.max_chars, **common)
    return where.text_input(
        label, max_chars=spec.max_chars, placeholder=spec.placeholder or None, **common
    )


def field_widgets(
    group: str, vocabulary: Vocabulary, *, columns: int = 1, number: int | None = None
) -> dict[str, Any]:
    """The register form's widgets of one part of a record (``""`` for the top level,
    ``contact``...), laid out in `columns` columns: field name -> value."""
    specs = fields.form_fields(group)
    where = st.columns(columns) if columns > 1 else [None]
    return {
        spec.name: field_widget(spec, vocabulary, where[i % len(where)], number=number)
        for i, spec in enumerate(specs)
    }


def prefill_register_form(values: dict[str, Any]) -> None:
    """Put form values (registration.form_values) into the Register form's widgets."""
    for name, value in values.items():
        if name == "locations":
            for number, row in enumerate(value, start=1):
                for field_name, cell in row.items():
                    st.session_state[f"register_{field_name}_{number}"] = cell
        elif name == "publish_contact":
            st.session_state["register_publish_contact"] = bool(value)
        else:
            st.session_state[f"register_{name}"] = value
