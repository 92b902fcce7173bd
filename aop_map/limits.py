"""Server-side limits on guessing and flooding: counters on disk that no reload resets.

A browser session is the attacker's to throw away, so every counter lives here: one JSON file
in a private folder (the store's, beside the submissions), read and rewritten under flock(2)
with an atomic rename, so it survives reloads, new sessions and server restarts, and several
server processes share it. Nothing here imports Streamlit; the clock is injected.

Each counter is a leaky bucket with a growing wait. Every attempt adds one; one is forgotten
every ``leak_s`` seconds (the sustained rate a rule allows). Once a counter reaches ``free``
the next attempt must wait ``base_s``, then twice that, four times... up to ``cap_s``. An
attempt that is refused is not counted, so waiting it out is always enough.

Callers name counters by rule and key: the client's address (``client_key``), a global
``TOTAL`` key shared by everyone, or a submission reference. Limits count *attempts*, before
the check they guard, so a burst of parallel requests cannot all slip in before the first
failure is written; a success is then forgiven (``forgive``).
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import json
import math
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

COUNTERS_FILE = "counters.json"
LOCK_FILE = ".lock"
TEMP_PREFIX = ".limits-tmp-"
TOTAL = "*"  # the key every client shares: a limit in total, across addresses
UNKNOWN_CLIENT = "unknown"  # no address (localhost, tests): all such clients share one key
# Counters kept at most: an attacker with many addresses must not grow the file without end
# (each attempt rewrites it). The least recently used go first; TOTAL keys are always recent.
MAX_COUNTERS = 20_000


@dataclass(frozen=True)
class Rule:
    """How many attempts are free, how the wait grows after that, and how fast it heals."""

    name: str
    free: int  # attempts before any wait
    base_s: float  # the first wait; each further attempt doubles it
    cap_s: float  # the longest wait
    leak_s: float  # one attempt is forgotten per leak_s seconds: the sustained rate

    def wait_after(self, count: int) -> float:
        """The wait after an attempt that brought the counter to ``count`` (0 while free)."""
        if count < self.free:
            return 0.0
        return float(min(self.cap_s, self.base_s * 2 ** min(count - self.free, 62)))


# A patient attacker's pace is one attempt per leak_s (the wait settles where leaks match it).
#
# Moderator sign-in: five tries per address, then 30 s, 1, 2, 4 ... minutes up to an hour, one
# miss forgotten an hour. In total (many addresses) twenty, then 30 s doubling to 15 minutes,
# one forgotten per 10 minutes: about four guesses an hour at a 12+ character password, and
# the real moderator waits at most 15 minutes while such an attack goes on.
SIGN_IN = Rule("sign-in", free=5, base_s=30, cap_s=3600, leak_s=3600)
SIGN_IN_TOTAL = Rule("sign-in-total", free=20, base_s=30, cap_s=900, leak_s=600)
# Edit codes (~79 bits: guessing is hopeless anyway; this keeps scrypt from being a cheap
# denial of service). Per address across all references: ten, then a minute, doubling. Per
# address and reference: five (the old 15-minute lockout), then doubling to six hours. Per
# reference from everywhere, a generous ceiling against distributed guessing: a hundred, then a
# minute doubling to an hour, one forgotten a minute. Only that last one can make the owner
# wait, and only after a hundred wrong codes from others; a right code forgives its attempt.
EDIT_CODE = Rule("edit-code", free=10, base_s=60, cap_s=3600, leak_s=600)
EDIT_CODE_REFERENCE = Rule("edit-code-reference", free=5, base_s=900, cap_s=6 * 3600, leak_s=3600)
EDIT_CODE_REFERENCE_TOTAL = Rule(
    "edit-code-reference-total", free=100, base_s=60, cap_s=3600, leak_s=60
)
# Registering: three listings per address, then 10 minutes, 20, 40 ... (about three an hour
# after that); sixty in total, then a minute doubling to an hour (about sixty an hour).
REGISTER = Rule("register", free=3, base_s=600, cap_s=86400, leak_s=1200)
REGISTER_TOTAL = Rule("register-total", free=60, base_s=60, cap_s=3600, leak_s=60)

Entry = tuple[Rule, str]


def sign_in_entries(client: str) -> tuple[Entry, ...]:
    """The counters a moderator password attempt goes through."""
    return ((SIGN_IN, client), (SIGN_IN_TOTAL, TOTAL))


def edit_code_entries(client: str, reference: str) -> tuple[Entry, ...]:
    """The counters an edit-code attempt goes through (never one the owner alone holds)."""
    return (
        (EDIT_CODE, client),
        (EDIT_CODE_REFERENCE, f"{client} {reference}"),
        (EDIT_CODE_REFERENCE_TOTAL, reference),
    )


def register_entries(client: str) -> tuple[Entry, ...]:
    """The counters a listing sent from the Register page goes through."""
    return ((REGISTER, client), (REGISTER_TOTAL, TOTAL))


@dataclass(frozen=True)
class Refusal:
    """An attempt refused: which rule, for which key, and how long until the next may try."""

    rule: Rule
    key: str
    wait_s: float

    @property
    def wait_text(self) -> str:
        """The wait in words, rounded up: '30 seconds', '2 minutes', '3 hours'."""
        seconds = max(1, math.ceil(self.wait_s))
        if seconds < 90:
            return "1 second" if seconds == 1 else f"{seconds} seconds"
        if seconds < 90 * 60:
            return f"{math.ceil(seconds / 60)} minutes"
        return f"{math.ceil(seconds / 3600)} hours"


@dataclass(frozen=True)
class Outcome:
    """What became of one attempt: refused (nothing counted), or counted and maybe the last."""

    refused: Refusal | None = None  # not allowed now; nothing was counted
    started: Refusal | None = None  # allowed and counted, and the next one must wait this long


def client_key(address: str | None) -> str:
    """The key of a client address: IPv6 by its /64 (one household or server), else as given.

    An IPv6 user typically controls a whole /64, so keying by full address would give them
    2**64 fresh counters. No address (localhost, tests) is ``UNKNOWN_CLIENT``.
    """
    text = address.strip() if isinstance(address, str) else ""
    if not text:
        return UNKNOWN_CLIENT
    try:
        parsed = ipaddress.ip_address(text)
    except ValueError:
        return text[:100]
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:  # ::ffff:192.0.2.1 is an IPv4 client
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{parsed}/64", strict=False))
    return str(parsed)


# ---------------------------------------------------------------------------------------------
# The counting, on plain data (state: {"rule|key": {"n": count, "t": since, "until": time}})


def _name(rule: Rule, key: str) -> str:
    return f"{rule.name}|{key}"


def _healed(counter: dict[str, Any] | None, rule: Rule, now: float) -> tuple[int, float]:
    """The count after whole leaks since ``t``, and the new ``t`` (keeping a part-leak's start).

    Whole attempts leak, not fractions: a counter at 4.9999 would never reach a limit of 5.
    """
    if not counter:
        return 0, now
    count, since = int(counter.get("n", 0)), float(counter.get("t", now))
    leaked = max(0, math.floor((now - since) / rule.leak_s))
    if leaked >= count:
        return 0, now
    return count - leaked, since + leaked * rule.leak_s


def refusal(state: dict[str, Any], entries: tuple[Entry, ...], now: float) -> Refusal | None:
    """The longest wait any entry still imposes at ``now``, or None."""
    worst: Refusal | None = None
    for rule, key in entries:
        until = float((state.get(_name(rule, key)) or {}).get("until", 0))
        if until > now and (worst is None or until - now > worst.wait_s):
            worst = Refusal(rule, key, until - now)
    return worst


def count_attempt(state: dict[str, Any], entries: tuple[Entry, ...], now: float) -> Outcome:
    """Refuse if any entry is waiting; else count one attempt on every entry."""
    refused = refusal(state, entries, now)
    if refused is not None:
        return Outcome(refused=refused)
    for rule, key in entries:
        name = _name(rule, key)
        count, since = _healed(state.get(name), rule, now)
        count += 1
        state[name] = {"n": count, "t": since, "until": now + rule.wait_after(count)}
    return Outcome(started=refusal(state, entries, now))


def forgive_attempt(
    state: dict[str, Any], entries: tuple[Entry, ...], now: float, *, forget: bool = False
) -> None:
    """Take one attempt back from every entry (a success), or forget the counters entirely."""
    for rule, key in entries:
        name = _name(rule, key)
        if forget or name not in state:
            state.pop(name, None)
            continue
        count, since = _healed(state[name], rule, now)
        count = max(0, count - 1)
        until = float(state[name].get("until", 0))
        if count < rule.free:
            until = now  # below the free allowance again: no wait
        state[name] = {"n": count, "t": since, "until": until}


def prune(state: dict[str, Any], rules: dict[str, Rule], now: float) -> dict[str, Any]:
    """Counters that still count: healed ones dropped, then the oldest beyond MAX_COUNTERS."""
    kept = {}
    for name, counter in state.items():
        rule = rules.get(name.split("|", 1)[0])
        if rule is None or not isinstance(counter, dict):
            continue  # a rule no longer in use
        if _healed(counter, rule, now)[0] == 0 and float(counter.get("until", 0)) <= now:
            continue
        kept[name] = counter
    if len(kept) > MAX_COUNTERS:
        newest = sorted(kept, key=lambda n: float(kept[n].get("t", 0)), reverse=True)
        kept = {name: kept[name] for name in newest[:MAX_COUNTERS]}
    return kept


RULES = {
    rule.name: rule
    for rule in (
        SIGN_IN,
        SIGN_IN_TOTAL,
        EDIT_CODE,
        EDIT_CODE_REFERENCE,
        EDIT_CODE_REFERENCE_TOTAL,
        REGISTER,
        REGISTER_TOTAL,
    )
}


# ---------------------------------------------------------------------------------------------
# The counters on disk


class Limiter:
    """Persistent counters in ``folder``; ``clock`` returns seconds since the epoch.

    Wall-clock seconds, not a monotonic clock: waits must outlive a restart or a reboot.
    Any number of Limiter objects and processes on one folder share the same counters.
    """

    def __init__(self, folder: Path, *, clock: Callable[[], float] | None = None) -> None:
        self.folder = Path(folder)
        self.path = self.folder / COUNTERS_FILE
        self._clock = clock or time.time
        self._swept = False

    def check(self, *entries: Entry) -> Refusal | None:
        """A refusal if any entry is waiting now; counts nothing."""
        return refusal(self._read(), entries, self._clock())

    def attempt(self, *entries: Entry) -> Outcome:
        """Count one attempt on every entry, or refuse it (counting nothing)."""
        with self._state() as state:
            return count_attempt(state, entries, self._clock())

    def forgive(self, *entries: Entry, forget: bool = False) -> None:
        """After a success: take its attempt back (or, with ``forget``, drop the counters)."""
        with self._state() as state:
            forgive_attempt(state, entries, self._clock(), forget=forget)

    def count(self, rule: Rule, key: str) -> int:
        """A counter's value now (after healing); for tests and the curious."""
        return _healed(self._read().get(_name(rule, key)), rule, self._clock())[0]

    # -- files ---------------------------------------------------------------------------------

    def _read(self) -> dict[str, Any]:
        try:
            state = json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}  # a missing file is no counters; a torn one cannot happen (atomic)
        return state if isinstance(state, dict) else {}

    @contextlib.contextmanager
    def _state(self) -> Iterator[dict[str, Any]]:
        """The counters, locked for one read-change-write (flock per open: threads too)."""
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if not self._swept:  # under the lock no write is in flight: leftovers are a crash's
                for leftover in self.folder.glob(f"{TEMP_PREFIX}*"):
                    with contextlib.suppress(OSError):
                        leftover.unlink()
                self._swept = True
            state = self._read()
            yield state
            self._write(prune(state, RULES, self._clock()))
        finally:
            os.close(fd)  # releases the flock, also when the process dies

    def _write(self, state: dict[str, Any]) -> None:
        # The store's recipe (store.atomic_write), repeated so this module needs nothing of it.
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=TEMP_PREFIX)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(state, handle, separators=(",", ":"))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
