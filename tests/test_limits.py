"""Server-side limits: counters on disk that reloads, new sessions and restarts never reset."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from unittest.mock import MagicMock

import pytest

from aop_map import limits
from aop_map.limits import (
    SIGN_IN,
    SIGN_IN_TOTAL,
    TOTAL,
    UNKNOWN_CLIENT,
    Limiter,
    Rule,
    client_key,
    sign_in_entries,
)

RULE = Rule("sign-in", free=3, base_s=10, cap_s=100, leak_s=1000)


class Clock:
    """Seconds since the epoch, moved by hand."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.mark.parametrize(
    ("count", "wait"),
    [(0, 0), (1, 0), (2, 0), (3, 10), (4, 20), (5, 40), (6, 80), (7, 100), (70, 100)],
)
def test_the_wait_grows_from_the_free_allowance_to_the_cap(count: int, wait: float) -> None:
    assert RULE.wait_after(count) == wait


@pytest.mark.parametrize(
    ("address", "key"),
    [
        (None, UNKNOWN_CLIENT),
        ("", UNKNOWN_CLIENT),
        ("203.0.113.7", "203.0.113.7"),
        (" 203.0.113.7 ", "203.0.113.7"),
        ("::ffff:203.0.113.7", "203.0.113.7"),  # an IPv4 client on an IPv6 socket
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),  # one household's whole /64
        ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
        ("not an address", "not an address"),
    ],
)
def test_client_keys(address: str | None, key: str) -> None:
    assert client_key(address) == key


def test_anything_but_text_is_an_unknown_client() -> None:
    # AppTest's stand-in client gives a new mock object per session: never a key of its own.
    assert client_key(MagicMock()) == client_key(123) == UNKNOWN_CLIENT  # type: ignore[arg-type]


def test_counters_survive_new_limiters_with_a_growing_wait(tmp_path: Path, clock: Clock) -> None:
    def fresh() -> Limiter:  # a reload, a new session or a restarted server
        return Limiter(tmp_path / "limits", clock=clock)

    entry = (RULE, "203.0.113.7")
    for _ in range(RULE.free - 1):
        outcome = fresh().attempt(entry)
        assert outcome.refused is None and outcome.started is None
    outcome = fresh().attempt(entry)
    assert outcome.refused is None and outcome.started.wait_s == 10  # the last free one
    refused = fresh().attempt(entry).refused
    assert refused is not None and refused.wait_s == 10 and refused.rule == RULE
    clock.now += 9
    assert fresh().attempt(entry).refused.wait_s == pytest.approx(1)
    clock.now += 1
    assert fresh().attempt(entry).started.wait_s == 20  # refused tries were not counted
    clock.now += 20
    assert fresh().attempt(entry).started.wait_s == 40
    assert fresh().count(*entry) == RULE.free + 2
    assert fresh().check(entry).wait_s == 40  # check counts nothing
    assert fresh().count(*entry) == RULE.free + 2


def test_counters_heal_one_attempt_per_leak(tmp_path: Path, clock: Clock) -> None:
    limiter = Limiter(tmp_path, clock=clock)
    entry = (RULE, "a")
    for _ in range(RULE.free):
        limiter.attempt(entry)
    clock.now += RULE.leak_s * 1.5
    assert limiter.count(*entry) == RULE.free - 1
    clock.now += RULE.leak_s * 0.5  # the half leak before is kept, not lost
    assert limiter.count(*entry) == RULE.free - 2
    assert limiter.attempt(entry).refused is None
    clock.now += RULE.leak_s * 10
    assert limiter.count(*entry) == 0
    limiter.attempt((RULE, "b"))
    stored = json.loads(limiter.path.read_text(encoding="utf-8"))
    assert "sign-in|a" not in stored  # healed counters are dropped from the file


def test_each_key_and_the_total_count_apart(tmp_path: Path, clock: Clock) -> None:
    limiter = Limiter(tmp_path, clock=clock)
    for n in range(SIGN_IN_TOTAL.free):
        assert limiter.attempt(*sign_in_entries(f"10.0.0.{n}")).refused is None
    # A new address has its own counter, but the total now makes everyone wait.
    refused = limiter.attempt(*sign_in_entries("10.9.9.9")).refused
    assert refused is not None and refused.rule == SIGN_IN_TOTAL and refused.key == TOTAL
    assert limiter.count(SIGN_IN, "10.9.9.9") == 0


def test_forgiving_a_success(tmp_path: Path, clock: Clock) -> None:
    limiter = Limiter(tmp_path, clock=clock)
    mine, total = (RULE, "me"), (SIGN_IN_TOTAL, TOTAL)
    for _ in range(RULE.free):
        limiter.attempt(mine, total)
    assert limiter.check(mine) is not None
    limiter.forgive(mine, forget=True)
    limiter.forgive(total)
    assert limiter.check(mine) is None and limiter.count(*mine) == 0
    assert limiter.count(*total) == RULE.free - 1


def test_parallel_attempts_are_all_counted(tmp_path: Path, clock: Clock) -> None:
    limiter = Limiter(tmp_path, clock=clock)
    barrier = threading.Barrier(16)

    def attempt(_: int) -> bool:
        barrier.wait()
        return Limiter(tmp_path, clock=clock).attempt((RULE, "burst")).refused is None

    with ThreadPoolExecutor(16) as pool:
        allowed = list(pool.map(attempt, range(16)))
    assert allowed.count(True) == RULE.free  # never more than the allowance slips in
    assert limiter.count(RULE, "burst") == RULE.free


def test_the_counters_file_is_private_bounded_and_never_torn(
    tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "MAX_COUNTERS", 50)
    folder = tmp_path / "limits"
    limiter = Limiter(folder, clock=clock)
    for n in range(200):  # guesses from 200 addresses: the oldest counters make room
        clock.now += 1
        limiter.attempt((RULE, f"10.0.0.{n}"))
    stored = json.loads(limiter.path.read_text(encoding="utf-8"))
    assert len(stored) == 50 and "sign-in|10.0.0.199" in stored and "sign-in|10.0.0.0" not in stored
    assert folder.stat().st_mode & 0o077 == 0 and limiter.path.stat().st_mode & 0o077 == 0
    assert not list(folder.glob(f"{limits.TEMP_PREFIX}*"))
    (folder / f"{limits.TEMP_PREFIX}crashed").write_text("{", encoding="utf-8")
    Limiter(folder, clock=clock).attempt((RULE, "x"))  # the next writer sweeps it
    assert not list(folder.glob(f"{limits.TEMP_PREFIX}*"))


def test_a_missing_or_damaged_file_is_no_counters(tmp_path: Path, clock: Clock) -> None:
    limiter = Limiter(tmp_path, clock=clock)
    assert limiter.check((RULE, "a")) is None
    limiter.path.write_text("[not a mapping]", encoding="utf-8")
    assert limiter.attempt((RULE, "a")).refused is None and limiter.count(RULE, "a") == 1


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.2, "1 second"),
        (30, "30 seconds"),
        (89, "89 seconds"),
        (90, "2 minutes"),
        (900, "15 minutes"),
        (5399, "90 minutes"),
        (5400, "2 hours"),
        (86400, "24 hours"),
    ],
)
def test_waits_in_words(seconds: float, text: str) -> None:
    assert limits.Refusal(RULE, "k", seconds).wait_text == text
