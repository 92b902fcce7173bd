"""Term-id columns as numpy arrays (term tuples, membership matrices); no vocabulary, no filters."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def factorize_terms(values: pd.Series) -> tuple[np.ndarray, list[tuple[str, ...]]]:
    """Each row's code into the column's distinct term tuples (missing: -1), and the tuples.

    A single string counts as a one-term tuple, so this serves ``status`` and ``kind`` too.
    """
    try:
        codes, uniques = pd.factorize(values.to_numpy(dtype=object))  # tuples hash; None is -1
    except TypeError:  # lists (unhashable) instead of the contract's tuples
        items = pd.Series([tuple(v) if _is_list(v) else v for v in values], dtype=object)
        codes, uniques = pd.factorize(items)
    terms = [
        tuple(t for t in u if isinstance(t, str))
        if _is_list(u)
        else (u,)
        if isinstance(u, str)
        else ()
        for u in uniques
    ]
    return codes, terms


def list_matrix(values: pd.Series, term_ids: tuple[str, ...]) -> np.ndarray:
    """(rows, terms) membership of a column of term-id tuples, computed per distinct tuple."""
    codes, uniques = factorize_terms(values)
    position = {t: i for i, t in enumerate(term_ids)}
    small = np.zeros((len(uniques) + 1, len(term_ids)), dtype=bool)  # last row: no terms
    for row, terms in enumerate(uniques):
        small[row, [position[t] for t in terms if t in position]] = True
    return np.asfortranarray(small[codes])  # code -1 (missing) picks the empty last row


def _is_list(value: Any) -> bool:
    return isinstance(value, list | tuple | np.ndarray | set | frozenset)


def bool_matrix(values: pd.Series, term_ids: tuple[str, ...]) -> np.ndarray:
    """(rows, 1): is the value a real True (a missing value is not stated, not false)."""
    array = values.to_numpy(dtype=object)
    return np.asfortranarray(
        np.array([v is True or v is np.True_ for v in array], dtype=bool).reshape(-1, 1)
    )


def value_matrix(values: pd.Series, term_ids: tuple[str, ...]) -> np.ndarray:
    """(rows, terms) equality of a single-valued column with each term id."""
    array = values.to_numpy(dtype=object)
    return np.asfortranarray(np.stack([array == t for t in term_ids], axis=1))
