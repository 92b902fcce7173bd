"""Every AOP_MAP_* environment variable, declared once, and typed accessors to read them.

It owns the names, what each means and what happens when it is unset, and the one true/false
parser. It reads the environment only when asked (never at import time), imports nothing from
the rest of aop_map, and decides no fallback that needs other modules (the data directory's
cache folder, say): an accessor returns None when a variable is unset and the caller falls back.
The README's settings table and tests/test_settings.py keep this table, the code and the
documentation in step.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Kind = Literal["flag", "path", "count", "text"]

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


@dataclass(frozen=True)
class Setting:
    """One environment variable: its name, the kind of value it takes, and documentation."""

    name: str
    kind: Kind
    unset: str  # what happens when it is unset (or empty), for the README
    meaning: str
    scope: Literal["app", "tests", "bench"] = "app"  # who reads it
    default: bool | None = None  # for flags: the value when unset (None: decided elsewhere)


_DECLARED = (
    Setting(
        name="AOP_MAP_DATA_DIR",
        kind="path",
        unset="the bundled `mapdata/`",
        meaning="the data directory the app and every command read",
    ),
    Setting(
        name="AOP_MAP_CACHE_DIR",
        kind="path",
        unset="`.aop-cache/` inside the data directory",
        meaning=(
            "where validated files and online geocoding answers are cached "
            "(one sub-folder per data directory)"
        ),
    ),
    Setting(
        name="AOP_MAP_SUBMISSIONS_DIR",
        kind="path",
        unset="`submissions/` inside the data directory",
        meaning="where registrations wait for moderation, with their audit log",
    ),
    Setting(
        name="AOP_MAP_GEODATA_DIR",
        kind="path",
        unset="`$XDG_DATA_HOME/aop-map` or `~/.local/share/aop-map`",
        meaning="where `aop-map geodata import` puts a newer ONS Postcode Directory",
    ),
    Setting(
        name="AOP_MAP_OFFLINE",
        kind="flag",
        unset="a quick background check decides",
        meaning=(
            "true: no map tiles are requested (the map draws district boundaries and place "
            "names itself); "
            "false: tiles are always requested"
        ),
    ),
    Setting(
        name="AOP_MAP_ONLINE_GEOCODING",
        kind="flag",
        unset="off",
        meaning=(
            "true: places the offline data cannot find are looked up on OpenStreetMap "
            "Nominatim (rate limited, cached)"
        ),
        default=False,
    ),
    Setting(
        name="AOP_MAP_LOAD_WORKERS",
        kind="count",
        unset="one per extra core (at most 4), from 1,500 uncached files",
        meaning="how many helper processes parse a large uncached load (0: none)",
    ),
    Setting(
        name="AOP_MAP_MODERATOR_PASSWORD",
        kind="text",
        unset="password sign-in is off (OIDC or the `moderator_password` secret may be set)",
        meaning="the shared password for the Moderation page",
    ),
    Setting(
        name="AOP_MAP_API_URL",
        kind="text",
        unset="the About page says how to run the API instead of linking it",
        meaning=(
            "the public address of the Open Referral UK API (`aop-map serve-api`), "
            "linked from the About page"
        ),
    ),
    Setting(
        name="AOP_MAP_REVIEW_MONTHS",
        kind="count",
        unset="12",
        meaning=(
            "how many months after it was last verified (else after its newest source) a "
            'record shows "may be out of date" and is due for review (`aop-map review`)'
        ),
    ),
    Setting(
        name="AOP_MAP_REQUIRE_BROWSER",
        kind="flag",
        unset="browser tests skip without chromium",
        meaning="true: browser tests fail, rather than skip, without chromium or playwright (CI)",
        scope="tests",
        default=False,
    ),
    Setting(
        name="AOP_MAP_CHROMIUM",
        kind="path",
        unset="`chromium` on the PATH",
        meaning="the Chromium binary the benchmarks drive",
        scope="bench",
    ),
)
SETTINGS: dict[str, Setting] = {s.name: s for s in _DECLARED}


class SettingError(ValueError):
    """An AOP_MAP_* variable holds a value its kind does not accept, or is not declared."""


def parse_flag(value: str, name: str = "value") -> bool:
    """The one true/false parser: 1/0, true/false, yes/no, on/off, any case, spaces ignored."""
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise SettingError(
        f"{name}={value!r} is not a true/false value: use 1 or 0, true or false, yes or no, "
        "on or off"
    )


def declared(name: str, kind: Kind | None = None) -> Setting:
    """The declaration of ``name``; SettingError when it is not declared (or is another kind)."""
    setting = SETTINGS.get(name)
    if setting is None:
        raise SettingError(f"{name} is not a declared setting (add it to aop_map/settings.py)")
    if kind is not None and setting.kind != kind:
        raise SettingError(f"{name} is a {setting.kind} setting, not a {kind}")
    return setting


def raw(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The variable's text, stripped; None when unset or empty."""
    declared(name)
    value = (os.environ if environ is None else environ).get(name, "").strip()
    return value or None


def flag(name: str, environ: Mapping[str, str] | None = None) -> bool | None:
    """A true/false setting; its declared default (which may be None) when unset."""
    setting = declared(name, "flag")
    value = raw(name, environ)
    return setting.default if value is None else parse_flag(value, name)


def path(name: str, environ: Mapping[str, str] | None = None) -> Path | None:
    """A path setting with ``~`` expanded; None when unset (the caller falls back)."""
    declared(name, "path")
    value = raw(name, environ)
    return None if value is None else Path(value).expanduser()


def count(name: str, environ: Mapping[str, str] | None = None) -> int | None:
    """A whole number, 0 or more; None when unset (the caller decides)."""
    declared(name, "count")
    value = raw(name, environ)
    if value is None:
        return None
    if not value.isdigit():
        raise SettingError(f"{name}={value!r} is not a whole number (0, 1, 2, ...)")
    return int(value)


def text(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """A text setting as given (not stripped: a password may end in a space); None when unset."""
    declared(name, "text")
    value = (os.environ if environ is None else environ).get(name, "")
    return value or None


def markdown_table() -> str:
    """The README's settings table, generated from SETTINGS."""
    takes = {"flag": "true/false", "path": "a path", "count": "0, 1, 2, ...", "text": "text"}
    rows = ["| variable | takes | when unset | what it does |", "|---|---|---|---|"]
    for s in SETTINGS.values():
        meaning = s.meaning if s.scope == "app" else f"({s.scope} only) {s.meaning}"
        rows.append(f"| `{s.name}` | {takes[s.kind]} | {s.unset} | {meaning} |")
    return "\n".join(rows)


_READERS = {"flag": flag, "path": path, "count": count, "text": text}


def problems(environ: Mapping[str, str] | None = None, scope: str = "app") -> list[str]:
    """What is wrong with the variables ``scope`` reads, one message each naming its variable
    (empty when all is well): the app checks this before a page runs."""
    found = []
    for setting in SETTINGS.values():
        if setting.scope == scope:
            try:
                _READERS[setting.kind](setting.name, environ)
            except SettingError as error:
                found.append(str(error))
    return found
