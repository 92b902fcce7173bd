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


def _record_districts(frame: pd.DataFrame, vocabulary: Vocabulary) -> pd.DataFrame:
    """Distinct (record_id, code, countywide) pairs: each district a record is counted in."""
    codes = district_terms(vocabulary)
    every = list(codes.values())
    venues = frame.loc[frame["district_code"].isin(every), ["record_id", "district_code"]]
    pairs = [venues.rename(columns={"district_code": "code"})]
    records = frame.drop_duplicates("record_id")
    served = records[["record_id", "areas_served"]].explode("areas_served").dropna()
    pairs.append(
        pd.DataFrame(
            {"record_id": served["record_id"], "code": served["areas_served"].map(codes)}
        ).dropna()
    )
    county = records.loc[
        records["areas_served"].map(lambda a: COUNTYWIDE in (a or ())), "record_id"
    ]
    pairs.append(
        pd.DataFrame(
            {"record_id": county.repeat(len(every)).to_numpy(), "code": every * len(county)}
        )
    )
    out = pd.concat(pairs, ignore_index=True).drop_duplicates()
    out["countywide"] = out["record_id"].isin(set(county))
    return out


def district_activity(
    frame: pd.DataFrame, vocabulary: Vocabulary, *, emerging_weight: float = EMERGING_WEIGHT
) -> pd.DataFrame:
    """One row per district of the vocabulary, in its order, zeros included.

    ``established`` and ``emerging``: distinct records with a venue in or serving the district;
    ``countywide``: how many of them serve the whole county; ``weighted``: established +
    `emerging_weight` x emerging, the value the map colours by. Never changes `frame`.
    """
    names = {t.code: t.label for t in vocabulary.terms("areas_served") if t.code}
    counts = pd.DataFrame(
        0, index=pd.Index(list(names), name="code"), columns=["total", "emerging", "countywide"]
    )
    if len(frame):
        pairs = _record_districts(frame, vocabulary)
        status = frame.drop_duplicates("record_id").set_index("record_id")["status"]
        pairs["emerging"] = pairs["record_id"].map(status).eq("emerging").to_numpy()
        grouped = pairs.groupby("code").agg(
            total=("record_id", "size"),
            emerging=("emerging", "sum"),
            countywide=("countywide", "sum"),
        )
        counts.loc[grouped.index] = grouped[counts.columns].to_numpy()
    table = counts.astype(int).reset_index()
    table["name"] = table["code"].map(names)
    table["established"] = table["total"] - table["emerging"]
    table["weighted"] = table["established"] + emerging_weight * table["emerging"]
    return table[ACTIVITY_COLUMNS].reset_index(drop=True)


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
