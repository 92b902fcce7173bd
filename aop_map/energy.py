"""Activity per district, for the energy map's choropleth: pure frame -> table, no drawing.

A record counts in a district when it has a venue there (a location whose ``district_code`` is
the district's) or serves it (``areas_served`` names the district, or ``countywide``, which
serves every district): the same district semantics as ``aop_map.filtering``, counted here per
district. Each record counts once per district however many venues it has there; emerging
records weigh ``EMERGING_WEIGHT`` in the total that colours the map, and established and
emerging are also counted apart, for the words beside the colour.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from aop_map.vocabulary import Vocabulary

# Emerging activity counts half in the energy layers: a pilot or a plan is energy that is
# starting, not yet the capacity of a running service, so a cluster of pilots glows less than
# the same number of established services (but is still visible where nothing is established).
EMERGING_WEIGHT = 0.5
COUNTYWIDE = "countywide"
ACTIVITY_COLUMNS = ["code", "name", "established", "emerging", "countywide", "weighted"]


def district_terms(vocabulary: Vocabulary) -> dict[str, str]:
    """Area term id -> ONS code, for the terms that are districts (vocabulary order)."""
    return {t.id: t.code for t in vocabulary.terms("areas_served") if t.code}


def _membership(frame: pd.DataFrame, vocabulary: Vocabulary) -> tuple[np.ndarray, ...]:
    """(records x districts) bool: counted there; and per record: emerging, countywide.

    Vectorised: one pass over the rows for venues, one look-up per distinct areas tuple (a few
    hundred at 100,000 rows) for serving; a plain loop over records gives the same answer
    (tests/test_energy.py keeps that twin).
    """
    codes = district_terms(vocabulary)
    records, _ = pd.factorize(frame["record_id"].to_numpy(dtype=object))
    first = np.unique(records, return_index=True)[1]
    emerging = frame["status"].to_numpy(dtype=object)[first] == "emerging"
    counted = np.zeros((len(first), len(codes)), dtype=bool)
    where = frame["district_code"].to_numpy(dtype=object)
    for j, code in enumerate(codes.values()):
        counted[records[where == code], j] = True
    areas = [tuple(a or ()) for a in frame["areas_served"].to_numpy(dtype=object)[first]]
    kinds, distinct = pd.factorize(pd.Series(areas, dtype=object))
    serves = np.array(
        [[term in a or COUNTYWIDE in a for term in codes] for a in distinct], dtype=bool
    ).reshape(len(distinct), len(codes))
    countywide = np.array([COUNTYWIDE in a for a in distinct], dtype=bool)[kinds]
    counted |= serves[kinds]
    return counted, emerging, countywide


def district_activity(
    frame: pd.DataFrame, vocabulary: Vocabulary, *, emerging_weight: float = EMERGING_WEIGHT
) -> pd.DataFrame:
    """One row per district of the vocabulary, in its order, zeros included.

    ``established`` and ``emerging``: distinct records with a venue in or serving the district;
    ``countywide``: how many of them serve the whole county; ``weighted``: established +
    `emerging_weight` x emerging, the value the map colours by. Never changes `frame`.
    """
    names = {t.code: t.label for t in vocabulary.terms("areas_served") if t.code}
    table = pd.DataFrame({"code": list(names), "name": list(names.values())})
    if len(frame):
        counted, emerging, countywide = _membership(frame, vocabulary)
        table["emerging"] = (counted & emerging[:, None]).sum(axis=0)
        table["established"] = (counted & ~emerging[:, None]).sum(axis=0)
        table["countywide"] = (counted & countywide[:, None]).sum(axis=0)
    else:
        table[["emerging", "established", "countywide"]] = 0
    table["weighted"] = table["established"] + emerging_weight * table["emerging"]
    return table[ACTIVITY_COLUMNS]


def activity_text(name: str, established: int, emerging: int, countywide: int) -> str:
    """'Stroud: 5 established, 2 emerging, incl. 3 countywide' (plain text, not yet escaped)."""
    text = f"{name}: {established} established, {emerging} emerging"
    return f"{text}, incl. {countywide} countywide" if countywide else text


def nice_step(span: float, classes: int) -> float:
    """A round class width (1, 2, 2.5 or 5 times a power of ten) at least span / classes."""
    raw = span / classes
    power = 10.0 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if factor * power >= raw - 1e-9:
            return factor * power
    return 10 * power  # pragma: no cover (the loop always returns)


def class_breaks(values: list[float] | pd.Series, classes: int = 5) -> list[float]:
    """Bounds ``[b0, b1, ..., bn]`` of round, equal classes ``[b0, b1], (b1, b2], ...`` that
    cover the values above 0; ``[]`` when every value is 0 (zero is a class of its own).

    Equal widths over the values' own range, not from zero, and not quantiles: countywide
    services add the same number to every district, and from zero that floor would give every
    district one colour; quantiles would give very different counts the same one. The legend
    prints the bounds, so a narrow range reads as one.
    """
    positive = [float(v) for v in values if float(v) > 0]
    if not positive:
        return []
    low, high = min(positive), max(positive)
    if high - low < 1e-9:
        return [low, high]
    # No class narrower than one emerging record (emerging counts half).
    step = max(nice_step(high - low, classes), EMERGING_WEIGHT)
    start = math.floor(low / step + 1e-9) * step
    count = max(1, math.ceil((high - start) / step - 1e-9))
    return [round(start + step * i, 6) for i in range(count + 1)]


def class_of(value: float, breaks: list[float]) -> int:
    """0 for none (0 or less), else the number of the class holding `value` (1 = lowest)."""
    if value <= 0 or not breaks:
        return 0
    for i, bound in enumerate(breaks[1:], start=1):
        if value <= bound + 1e-9:
            return i
    return len(breaks) - 1
