"""The optional online geocoder (OpenStreetMap Nominatim): off unless the user turns it on,
rate limited, answers cached on disk; never called at import time or in tests."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

from aop_map import settings
from aop_map.geocoding.gazetteer import place_key
from aop_map.loading import data_dir_from_env, default_cache_dir

ONLINE_ENV = "AOP_MAP_ONLINE_GEOCODING"
ONLINE_CACHE_FILE = "online-geocode.json"
NOMINATIM_USER_AGENT = "aop-map"
# Nominatim's usage policy: at most one request per second.
ONLINE_MIN_INTERVAL_S = 1.0

OnlineGeocoder = Callable[[str], "tuple[float, float] | None"]


class CachedOnlineGeocoder:
    """Wraps a network geocoder: at most one call per `min_interval` s, answers cached on disk.

    "Not found" is cached too, so a later run stays offline for it; network errors are not, so
    a later run retries.
    """

    def __init__(
        self,
        geocode: OnlineGeocoder,
        cache_file: Path,
        *,
        min_interval: float = ONLINE_MIN_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.geocode = geocode
        self.cache_file = Path(cache_file)
        self.min_interval = min_interval
        self.clock = clock
        self.sleep = sleep
        self.calls = 0
        self._last: float | None = None
        self._lock = threading.Lock()
        try:
            loaded = json.loads(self.cache_file.read_text(encoding="utf-8"))
            self.cache: dict[str, list[float] | None] = loaded if isinstance(loaded, dict) else {}
        except (OSError, ValueError):
            self.cache = {}

    def __call__(self, query: str) -> tuple[float, float] | None:
        key = place_key(query)
        with self._lock:
            if key in self.cache:
                hit = self.cache[key]
                return (float(hit[0]), float(hit[1])) if hit else None
            if self._last is not None:
                wait = self.min_interval - (self.clock() - self._last)
                if wait > 0:
                    self.sleep(wait)
            try:
                self.calls += 1
                answer = self.geocode(query)
            except Exception:  # network trouble: not cached, so a later run can retry
                return None
            finally:
                self._last = self.clock()
            self.cache[key] = [float(answer[0]), float(answer[1])] if answer else None
            self._save()
            return answer

    def _save(self) -> None:
        try:
            self.cache_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.cache_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.cache, indent=0, sort_keys=True), encoding="utf-8")
            tmp.replace(self.cache_file)
        except OSError:
            pass  # a read-only data dir only costs repeated look-ups


def nominatim_geocoder() -> OnlineGeocoder:
    """OpenStreetMap Nominatim through geopy, limited to the UK (network; never in tests)."""
    from geopy.geocoders import Nominatim

    client = Nominatim(user_agent=NOMINATIM_USER_AGENT, timeout=10)

    def geocode(query: str) -> tuple[float, float] | None:
        found = client.geocode(query, country_codes="gb")
        return (found.latitude, found.longitude) if found else None

    return geocode


def online_enabled() -> bool:
    """True when the user turned online geocoding on (AOP_MAP_ONLINE_GEOCODING=1).

    A value that is not true/false raises settings.SettingError, naming the variable.
    """
    return bool(settings.flag(ONLINE_ENV))


def online_cache_file(data_dir: Path | None = None) -> Path:
    """The online answers cache: in $AOP_MAP_CACHE_DIR, else <data_dir>/.aop-cache."""
    return default_cache_dir(data_dir or data_dir_from_env()) / ONLINE_CACHE_FILE


def online_geocoder_from_env(
    data_dir: Path | None = None,
    *,
    geocoder: OnlineGeocoder | None = None,
) -> CachedOnlineGeocoder | None:
    """The cached, rate-limited Nominatim geocoder when AOP_MAP_ONLINE_GEOCODING=1, else None."""
    if not online_enabled():
        return None
    return CachedOnlineGeocoder(geocoder or nominatim_geocoder(), online_cache_file(data_dir))
