"""Synthetic records for the benchmarks, made in code (never committed as data).

Records look like the real ones: term ids from ``mapdata/vocabulary.yaml`` in realistic mixes
(mental health and music far more common than paediatric epilepsy and circus), ~200-character
descriptions, several terms in some list fields, and real postcodes sampled from the same
offline ONS Postcode Directory that ``aop_map.geocoding`` reads. A few locations are a
gazetteer place or an exact lat/lon instead, as in the real data.
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from aop_map.geocoding import Gazetteer, PostcodeLookup, default_gazetteer, normalise_postcode
from aop_map.vocabulary import Vocabulary

# Up to this many records are placed in Gloucestershire; more are spread over England, as the
# issue asks for the 100,000 case (one county has only ~35,000 postcodes).
GLOUCESTERSHIRE_MAX_N = 10_000
# Share of locations given as a gazetteer place name, and as an exact lat/lon; the rest have
# a postcode. The real records are mostly postcodes, some town-level places.
PLACE_SHARE = 0.08
EXACT_SHARE = 0.04
SEED = 20_251_122

# Relative weights: how often a term appears in real arts-and-health provision. Terms missing
# here get weight 1.
WEIGHTS: dict[str, dict[str, float]] = {
    "conditions": {
        "mental-health": 12,
        "general-wellbeing": 8,
        "social-isolation": 6,
        "dementia": 5,
        "long-term-conditions": 4,
        "chronic-pain": 3,
        "copd": 3,
        "learning-disability": 3,
        "ageing-and-frailty": 3,
        "carers": 2,
        "cancer": 2,
        "physical-disability": 2,
        "disabling-barriers": 2,
    },
    "art_forms": {
        "visual-arts": 10,
        "music": 9,
        "singing": 8,
        "crafts": 7,
        "creative-writing": 5,
        "dance": 5,
        "theatre": 4,
        "cross-arts": 4,
        "photography": 3,
        "nature-and-outdoor-arts": 3,
        "heritage-and-museums": 3,
        "reading": 2,
        "film": 2,
        "printmaking": 2,
    },
    "age_groups": {
        "adults": 10,
        "older-people": 6,
        "all-ages": 4,
        "young-people": 3,
        "children": 2,
    },
    "delivery": {"in-person": 12, "hybrid": 3, "online": 2},
    "referral_routes": {
        "social-prescriber": 8,
        "self-referral": 8,
        "gp": 5,
        "clinician": 3,
        "care-agency": 1,
    },
    "commissioning_models": {
        "grant": 6,
        "arts-on-prescription": 5,
        "sub-contract": 3,
        "single-provider": 3,
        "consortium": 2,
        "personal-budget": 1,
    },
    "kind": {"programme": 6, "organisation": 4, "freelance-artist": 3, "venue": 1},
    "status": {"established": 7, "emerging": 3, "ended": 0},  # ended is hidden by default
}
# How many terms a list field gets: (choices, weights).
LIST_SIZES: dict[str, tuple[tuple[int, ...], tuple[float, ...]]] = {
    "conditions": ((1, 2, 3, 4), (5, 4, 2, 1)),
    "art_forms": ((1, 2, 3), (5, 3, 1)),
    "age_groups": ((1, 2), (3, 1)),
    "delivery": ((1, 2), (6, 1)),
    "referral_routes": ((1, 2, 3), (4, 3, 1)),
    "commissioning_models": ((0, 1, 2), (2, 5, 1)),
}

ADJECTIVES = (
    "Bright",
    "Open",
    "Riverside",
    "Hillside",
    "Community",
    "Shared",
    "Green",
    "Together",
    "Creative",
    "Calm",
    "Forest",
    "Vale",
    "Market",
    "Old School",
    "Meadow",
    "Harbour",
    "Northgate",
    "Westgate",
    "Southside",
    "Cotswold",
)
NOUNS = (
    "Studio",
    "Collective",
    "Voices",
    "Makers",
    "Arts",
    "Hub",
    "Circle",
    "Workshop",
    "Company",
    "Project",
    "Network",
    "Choir",
    "Players",
    "Gallery",
    "Club",
)
SENTENCES = (
    "Weekly {art} sessions for people living with {cond}, led by experienced artists.",
    "Small friendly groups meet in a warm, accessible venue with tea and time to talk.",
    "Referrals come from social prescribers and GPs; people can also come along themselves.",
    "Each course runs for ten weeks and ends with a sharing for family and friends.",
    "No experience is needed and all materials are provided free of charge.",
    "Sessions are co-designed with participants and adapted to changing needs.",
    "We work closely with {cond} services to make every session safe and welcoming.",
    "Outcomes are evaluated with WEMWBS at the start and end of every course.",
)


@dataclass(frozen=True)
class Dataset:
    """Where one generated dataset lives and what it holds."""

    n: int
    yaml_dir: Path
    csv_dir: Path | None  # None when not written
    postcodes: list[str]  # one per postcode location, in record order
    record_ids: list[str]


def _weighted(vocabulary: Vocabulary, field: str) -> tuple[list[str], np.ndarray]:
    ids = [t.id for t in vocabulary.terms(field)]
    weights = np.array([WEIGHTS.get(field, {}).get(i, 1.0) for i in ids], dtype=float)
    return ids, weights / weights.sum()


def _draw_terms(
    vocabulary: Vocabulary, field: str, n: int, rng: np.random.Generator
) -> list[list[str]]:
    """n weighted samples without replacement, sizes from LIST_SIZES (Gumbel top-k, vectorised)."""
    ids, p = _weighted(vocabulary, field)
    sizes, size_weights = LIST_SIZES[field]
    weights = np.asarray(size_weights, float)
    counts = rng.choice(np.asarray(sizes), size=n, p=weights / weights.sum())
    order = np.argsort(-(np.log(p) + rng.gumbel(size=(n, len(ids)))), axis=1)
    return [[ids[j] for j in order[i, : counts[i]]] for i in range(n)]


def _draw_one(vocabulary: Vocabulary, field: str, n: int, rng: np.random.Generator) -> list[str]:
    ids, p = _weighted(vocabulary, field)
    return [ids[j] for j in rng.choice(len(ids), size=n, p=p)]


def sample_postcodes(
    n: int,
    lookup: PostcodeLookup,
    vocabulary: Vocabulary,
    rng: np.random.Generator,
    *,
    england: bool,
) -> list[tuple[str, str]]:
    """n real (postcode, district code) pairs: Gloucestershire's districts, or all England."""
    glos_codes = {t.code for t in vocabulary.terms("areas_served") if t.code}
    letters = "ABCDEFHIKLMNOPRSTUWY" if england else "G"
    # G holds every Gloucestershire postcode (GL) and Glasgow (G): keep the county's only.
    pools = []
    for letter in letters:
        table = lookup.table(letter)
        lad = table["lad"].astype(str)
        keep = lad.str.startswith("E") if england else lad.isin(glos_codes)
        pools.append(table.index[keep.to_numpy()].to_numpy())
        pools.append(lad[keep].to_numpy())
    keys = np.concatenate(pools[0::2])
    codes = np.concatenate(pools[1::2])
    # ONSPD keeps terminated postcodes such as London's pre-2000 'W1N 6JN', which are no
    # longer valid UK postcodes: sample only what a provider could write today.
    valid = np.fromiter(
        (normalise_postcode(f"{k[:4].strip()} {k[4:]}") is not None for k in keys),
        dtype=bool,
        count=len(keys),
    )
    keys, codes = keys[valid], codes[valid]
    chosen = rng.choice(len(keys), size=n, replace=n > len(keys))
    # pcd7 'GL1 1AA' / 'GL501AA' -> the usual spelling 'GL50 1AA'.
    return [
        (f"{k[:4].strip()} {k[4:]}", str(c))
        for k, c in zip(keys[chosen], codes[chosen], strict=True)
    ]


def make_records(
    n: int,
    vocabulary: Vocabulary,
    *,
    seed: int = SEED,
    lookup: PostcodeLookup | None = None,
    gazetteer: Gazetteer | None = None,
) -> list[dict[str, Any]]:
    """n raw records (the YAML shape), deterministic for a seed."""
    rng = np.random.default_rng(seed + n)
    pyrng = random.Random(seed + n)
    lookup = lookup or PostcodeLookup()
    gazetteer = gazetteer or default_gazetteer()
    places = [p for p in gazetteer.places if p.in_gloucestershire]
    area_by_code = {t.code: t.id for t in vocabulary.terms("areas_served") if t.code}
    england = n > GLOUCESTERSHIRE_MAX_N
    located = sample_postcodes(n, lookup, vocabulary, rng, england=england)
    terms_by_field = {f: _draw_terms(vocabulary, f, n, rng) for f in LIST_SIZES}
    kinds = _draw_one(vocabulary, "kind", n, rng)
    statuses = _draw_one(vocabulary, "status", n, rng)
    how = rng.random(n)
    records = []
    for i in range(n):
        terms = {f: drawn[i] for f, drawn in terms_by_field.items()}
        kind, status = kinds[i], statuses[i]
        postcode, code = located[i]
        area = area_by_code.get(code, "elsewhere")
        areas = [area, "countywide"] if pyrng.random() < 0.1 and area != "elsewhere" else [area]
        if how[i] < PLACE_SHARE:
            place = pyrng.choice(places)
            location: dict[str, Any] = {"place": place.name}
            areas = [area_by_code.get(place.district_code or "", "countywide")]
        elif how[i] < PLACE_SHARE + EXACT_SHARE:
            place = pyrng.choice(places)
            location = {
                "lat": round(place.lat + rng.normal(0, 0.02), 6),
                "lon": round(place.lon + rng.normal(0, 0.03), 6),
                "label": f"{pyrng.choice(ADJECTIVES)} Hall",
            }
        else:
            location = {"postcode": postcode}
        name = f"{pyrng.choice(ADJECTIVES)} {pyrng.choice(NOUNS)} {i}"
        art = vocabulary.label("art_forms", terms["art_forms"][0]).lower()
        cond = vocabulary.label("conditions", terms["conditions"][0]).lower()
        description = _description(pyrng, art, cond)
        slug = f"bench-{i:06d}"
        records.append(
            {
                "id": slug,
                "name": name,
                "kind": kind,
                "status": status,
                "summary": f"{art.capitalize()} for people living with {cond}.",
                "description": description,
                "organisation": f"{pyrng.choice(ADJECTIVES)} Arts Trust",
                "art_forms": terms["art_forms"],
                "conditions": terms["conditions"],
                "age_groups": terms["age_groups"],
                "areas_served": areas,
                "delivery": terms["delivery"],
                "referral_routes": terms["referral_routes"],
                "commissioning_models": terms["commissioning_models"],
                "locations": [location],
                "contact": {
                    "website": f"https://example.org/{slug}",
                    "email": f"hello@{slug}.example.org",
                    "phone": "01452 000000",
                },
                "publish_contact": bool(pyrng.random() < 0.7),
                "last_verified": f"2025-{pyrng.randint(1, 12):02d}-{pyrng.randint(1, 28):02d}",
                "sources": [{"title": "Synthetic benchmark record", "url": "https://example.org/"}],
            }
        )
    return records


def _description(rng: random.Random, art: str, cond: str) -> str:
    """Two or three template sentences, ~200 characters."""
    text = ""
    for sentence in rng.sample(SENTENCES, len(SENTENCES)):
        text = (text + " " + sentence.format(art=art, cond=cond)).strip()
        if len(text) >= 180:
            break
    return text


# ---------------------------------------------------------------------------------------------
# Writing


def _scalar(value: Any) -> str:
    """A YAML scalar: JSON strings are valid YAML double-quoted scalars."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)


# Ids, terms and dates are written plain, as people write them; free text is quoted.
PLAIN_KEYS = frozenset({"id", "kind", "status", "last_verified"})


def to_yaml(record: dict[str, Any]) -> str:
    """One record as hand-written-looking block YAML (faster to write than yaml.dump)."""
    lines: list[str] = []
    for key, value in record.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            lines.append(f"{key}:")
            for item in value:
                for j, (k, v) in enumerate(item.items()):
                    lines.append(f"  {'- ' if j == 0 else '  '}{k}: {_scalar(v)}")
        elif isinstance(value, list):
            lines.append(f"{key}:" + ("" if value else " []"))
            lines.extend(f"  - {v}" for v in value)
        elif isinstance(value, dict):
            lines.append(f"{key}:")
            lines.extend(f"  {k}: {_scalar(v)}" for k, v in value.items())
        elif key in PLAIN_KEYS:
            lines.append(f"{key}: {value}")
        else:
            lines.append(f"{key}: {_scalar(value)}")
    return "\n".join(lines) + "\n"


CSV_HEADER = (
    "id",
    "name",
    "kind",
    "status",
    "summary",
    "description",
    "organisation",
    "art_forms",
    "conditions",
    "age_groups",
    "areas_served",
    "delivery",
    "referral_routes",
    "commissioning_models",
    "postcode",
    "place",
    "lat",
    "lon",
    "website",
    "email",
    "phone",
    "publish_contact",
    "last_verified",
    "sources",
)


def to_csv_row(record: dict[str, Any]) -> list[str]:
    """One spreadsheet row: lists joined with ';' as the importer expects."""
    location = record["locations"][0]
    row: dict[str, Any] = {
        k: record[k]
        for k in (
            "id",
            "name",
            "kind",
            "status",
            "summary",
            "description",
            "organisation",
            "last_verified",
        )
    }
    for key in (
        "art_forms",
        "conditions",
        "age_groups",
        "areas_served",
        "delivery",
        "referral_routes",
        "commissioning_models",
    ):
        row[key] = "; ".join(record[key])
    for key in ("postcode", "place", "lat", "lon"):
        row[key] = location.get(key, "")
    row.update(record["contact"])
    row["publish_contact"] = "yes" if record["publish_contact"] else "no"
    row["sources"] = record["sources"][0]["url"]
    return [str(row.get(h, "")) for h in CSV_HEADER]


def write_dataset(records: list[dict[str, Any]], root: Path, *, csv_copy: bool = True) -> Dataset:
    """The records as one YAML file each (root/yaml) and, with `csv_copy`, as one CSV
    (root/csv)."""
    yaml_dir, csv_dir = root / "yaml", root / "csv"
    yaml_dir.mkdir(parents=True)
    for record in records:
        (yaml_dir / f"{record['id']}.yaml").write_text(to_yaml(record), encoding="utf-8")
    if csv_copy:
        csv_dir.mkdir(parents=True)
        with open(csv_dir / "providers.csv", "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(CSV_HEADER)
            writer.writerows(to_csv_row(r) for r in records)
    postcodes = [r["locations"][0]["postcode"] for r in records if "postcode" in r["locations"][0]]
    return Dataset(
        len(records), yaml_dir, csv_dir if csv_copy else None, postcodes, [r["id"] for r in records]
    )


def generate(
    n: int,
    root: Path,
    vocabulary: Vocabulary,
    lookup: PostcodeLookup | None = None,
    *,
    csv: bool = True,
) -> Dataset:
    """Make and write n records under root (and a CSV copy of them unless `csv` is False)."""
    return write_dataset(make_records(n, vocabulary, lookup=lookup), root, csv_copy=csv)
