"""The loaded, geocoded dataset the app and the CLI share: records, problems and the frame."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd

from aop_map.geocoding import geocode_records, online_geocoder_from_env
from aop_map.loading import Origin, data_dir_from_env, load_records, load_vocabulary
from aop_map.records import Problem, Record
from aop_map.vocabulary import Vocabulary


@dataclass
class Dataset:
    """Valid records, every problem from loading and geocoding, and the map frame."""

    data_dir: Path
    vocabulary: Vocabulary
    records: list[Record]
    problems: list[Problem]
    origins: dict[str, Origin]
    frame: gpd.GeoDataFrame
    _by_id: dict[str, Record] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._by_id = {record.id: record for record in self.records}

    def record(self, record_id: str) -> Record | None:
        """One record by id, or None."""
        return self._by_id.get(record_id)

    @property
    def located_count(self) -> int:
        """Locations with a point on the map."""
        return int(self.frame.geometry.notna().sum()) if len(self.frame) else 0

    def unlocated_records(self) -> list[Record]:
        """Records with no point on the map (listed in data quality, still in lists)."""
        if not len(self.frame):
            return list(self.records)
        located = set(self.frame.loc[self.frame.geometry.notna(), "record_id"])
        return [r for r in self.records if r.id not in located]


def load_dataset(data_dir: Path | str | None = None, *, use_cache: bool = True) -> Dataset:
    """Load, validate and geocode a data directory (offline unless the user enabled online).

    A bad record or file is a problem in the result, never an exception; a vocabulary that
    cannot be used raises :class:`aop_map.vocabulary.VocabularyError` (a plain message naming
    the file), as nothing can be validated without it.
    """
    data_dir = Path(data_dir) if data_dir is not None else data_dir_from_env()
    vocabulary = load_vocabulary(data_dir)
    # The loader reads the same vocabulary itself, which lets it reuse its whole-result cache.
    loaded = load_records(data_dir, use_cache=use_cache)
    frame, geo_problems = geocode_records(
        loaded.records, vocabulary, origins=loaded.origins, online=online_geocoder_from_env()
    )
    return Dataset(
        data_dir=data_dir,
        vocabulary=vocabulary,
        records=loaded.records,
        problems=[*loaded.problems, *geo_problems],
        origins=loaded.origins,
        frame=frame,
    )
