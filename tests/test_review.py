"""Issue 12 §3: the review cycle -- due dates at the boundary, the queue (library and CLI), and
recording a verification for curated files (byte for byte outside the changed lines) and
community records (through the store), with the audit log."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from aop_map import cli, review
from aop_map.loading import load_records
from aop_map.review import (
    VerifyError,
    add_months,
    due_for_review,
    is_out_of_date,
    months_between,
    review_months,
    set_verified_yaml,
    verify,
)
from aop_map.store import StoreError, SubmissionStore

MAPDATA = Path(__file__).resolve().parents[1] / "mapdata"
D = dt.date


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (D(2025, 11, 30), 12, D(2026, 11, 30)),
        (D(2025, 1, 31), 1, D(2025, 2, 28)),  # the 31st -> the end of a shorter month
        (D(2024, 1, 31), 1, D(2024, 2, 29)),  # a leap year
        (D(2024, 2, 29), 12, D(2025, 2, 28)),
        (D(2025, 8, 31), 3, D(2025, 11, 30)),
        (D(2025, 12, 15), 1, D(2026, 1, 15)),  # over the year end
        (D(2025, 3, 10), 0, D(2025, 3, 10)),
    ],
)
def test_add_months(start: dt.date, months: int, expected: dt.date) -> None:
    assert add_months(start, months) == expected


def _record(**given: object) -> SimpleNamespace:
    return SimpleNamespace(
        **{"status": "established", "last_verified": None, "source_date": None, **given}
    )


@pytest.mark.parametrize(
    ("verified", "today", "due"),
    [
        (D(2025, 11, 30), D(2026, 11, 29), False),  # the day before: still fresh
        (D(2025, 11, 30), D(2026, 11, 30), True),  # exactly 12 months: due that day
        (D(2025, 11, 30), D(2026, 12, 1), True),
        (D(2025, 1, 31), D(2026, 1, 30), False),
        (D(2025, 1, 31), D(2026, 1, 31), True),
        (D(2024, 2, 29), D(2025, 2, 27), False),
        (D(2024, 2, 29), D(2025, 2, 28), True),  # no 29 February: its month's last day
    ],
)
def test_due_on_the_day_twelve_months_on(verified: dt.date, today: dt.date, due: bool) -> None:
    assert is_out_of_date(_record(last_verified=verified), today, 12) is due


def test_without_verification_the_source_date_counts() -> None:
    # A month counts from its first day, a year from 1 January.
    assert is_out_of_date(_record(source_date="2025-11"), D(2026, 10, 31), 12) is False
    assert is_out_of_date(_record(source_date="2025-11"), D(2026, 11, 1), 12) is True
    assert is_out_of_date(_record(source_date="2025"), D(2026, 1, 1), 12) is True
    assert is_out_of_date(_record(), D(2000, 1, 1), 12) is True  # no date at all
    # A verification wins over an older source.
    assert (
        is_out_of_date(
            _record(source_date="2018", last_verified=D(2026, 6, 1)), D(2026, 11, 30), 12
        )
        is False
    )
    assert is_out_of_date(_record(status="ended"), D(2026, 11, 30), 12) is False  # history


def test_months_between() -> None:
    assert months_between(D(2025, 11, 30), D(2026, 11, 30)) == 12
    assert months_between(D(2025, 11, 30), D(2026, 11, 29)) == 11
    assert months_between(D(2025, 1, 31), D(2025, 2, 28)) == 1
    assert months_between(D(2026, 1, 1), D(2025, 1, 1)) == 0


def test_review_months_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert review_months() == 12
    monkeypatch.setenv("AOP_MAP_REVIEW_MONTHS", "6")
    assert review_months() == 6
    monkeypatch.setenv("AOP_MAP_REVIEW_MONTHS", "soon")
    with pytest.raises(ValueError, match="AOP_MAP_REVIEW_MONTHS"):
        review_months()


def test_the_queue_is_oldest_first_and_leaves_ended_out() -> None:
    records = load_records(MAPDATA).records
    due = due_for_review(records, D(2026, 11, 30), 12)
    ids = [d.id for d in due]
    assert "artlift-chronic-pain-pathway" not in ids  # ended
    assert all(r.status != "ended" for r in records if r.id in ids)
    ages = [d.months_since for d in due]
    undated = ages.count(None)
    assert ages[:undated] == [None] * undated  # no date at all first
    dated = ages[undated:]
    assert dated == sorted(dated, reverse=True)
    art_shape = next(d for d in due if d.id == "art-shape")
    assert art_shape.source_date == "2018-11" and art_shape.months_since == 96
    assert art_shape.last_verified is None


@pytest.fixture
def data(tmp_path: Path) -> Path:
    target = tmp_path / "mapdata"
    shutil.copytree(MAPDATA, target, ignore=shutil.ignore_patterns(".aop-cache", "submissions"))
    return target


def _store(data: Path) -> SubmissionStore:
    return SubmissionStore(data.parent / "submissions", data_dir=data)


def test_cli_review_json(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["review", "--json", "--data-dir", str(data), "--today", "2026-11-30"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["review_months"] == 12
    first = report["due"][0]
    assert set(first) == {"id", "name", "last_verified", "source_date", "months_since", "contact"}
    assert cli.main(["review", "--data-dir", str(data)]) == 0
    assert "due for review" in capsys.readouterr().out


def test_verifying_a_curated_file_changes_only_its_lines(
    data: Path, capsys: pytest.CaptureFixture
) -> None:
    path = data / "providers" / "art-shape.yaml"
    before = path.read_text()
    code = cli.main(
        [
            "review",
            "verify",
            "art-shape",
            "--by",
            "Sam Lee (phone)",
            "--date",
            "2026-11-20",
            "--data-dir",
            str(data),
            "--submissions-dir",
            str(data.parent / "submissions"),
        ]
    )
    assert code == 0, capsys.readouterr().err
    after = path.read_text()
    added = [line for line in after.splitlines() if line not in before.splitlines()]
    assert added == ["last_verified: 2026-11-20", "verified_by: Sam Lee (phone)"]
    # Byte for byte: the file is the old one with two lines inserted after source_date.
    anchor = "source_date: 2018-11\n"
    assert after == before.replace(anchor, anchor + "".join(f"{a}\n" for a in added))
    assert after.startswith("# Source: How co-production")  # comments kept
    record = next(r for r in load_records(data).records if r.id == "art-shape")
    assert record.last_verified == D(2026, 11, 20) and record.verified_by == "Sam Lee (phone)"
    entry = _store(data).audit_log()[-1]
    assert entry["action"] == "verified" and entry["record_id"] == "art-shape"
    assert entry["verified_on"] == "2026-11-20" and entry["file"] == "curated"
    # Verifying again replaces the two values in place.
    verify(_store(data), "art-shape", "Kim", "Mod", D(2026, 11, 29), today=D(2026, 11, 30))
    again = path.read_text()
    assert again == after.replace("2026-11-20", "2026-11-29").replace("Sam Lee (phone)", "Kim")
    assert not is_out_of_date(record, D(2026, 11, 30), 12)


def test_a_round_trip_that_would_reformat_is_refused() -> None:
    text = "id: x\nname:   X\nstatus: established\n"  # the extra spaces would not survive
    with pytest.raises(VerifyError, match="reformat"):
        set_verified_yaml(text, "x", D(2026, 1, 1), "Kim")
    with pytest.raises(VerifyError, match="no record"):
        set_verified_yaml("id: y\nname: Y\n", "x", D(2026, 1, 1), "Kim")


def test_every_bundled_file_can_be_verified_without_moving_other_lines() -> None:
    for path in sorted((MAPDATA / "providers").glob("*.yaml")):
        text = path.read_text()
        record_id = yaml.safe_load(text)["id"]
        new = set_verified_yaml(text, record_id, D(2026, 11, 30), "Kim")
        removed = [line for line in text.splitlines() if line not in new.splitlines()]
        assert removed == [], path.name
        assert len(new.splitlines()) == len(text.splitlines()) + 2


def test_verifying_a_community_record_goes_through_the_store(data: Path) -> None:
    store = _store(data)
    (data / "community").mkdir()
    (data / "community" / "village-choir.yaml").write_text(
        "# Published by aop-map from submission AOP-2026-ABCDEF; change it through the "
        "moderation queue (aop-map submissions), not by hand.\n"
        "id: village-choir\nname: Village choir\nkind: organisation\nstatus: established\n"
        "last_verified: 2025-01-02\nverified_by: the provider, through the register form\n"
    )
    record = verify(store, "village-choir", "Ali", "Mod", D(2026, 11, 30), today=D(2026, 11, 30))
    assert record.last_verified == D(2026, 11, 30) and record.verified_by == "Ali"
    text = (data / "community" / "village-choir.yaml").read_text()
    assert text.startswith("# Published by aop-map from submission AOP-2026-ABCDEF")
    assert "verified_by: Ali" in text
    assert store.audit_log()[-1]["file"] == "community"


@pytest.mark.parametrize(
    ("record_id", "by", "on", "error"),
    [
        ("no-such-record", "Kim", D(2026, 1, 1), "no record"),
        ("art-shape", "  ", D(2026, 1, 1), "who confirmed"),
        ("art-shape", "Kim", D(2027, 1, 1), "future"),
    ],
)
def test_verification_refusals(
    data: Path, record_id: str, by: str, on: dt.date, error: str
) -> None:
    with pytest.raises((VerifyError, StoreError), match=error):
        verify(_store(data), record_id, by, "Mod", on, today=D(2026, 11, 30))


def test_the_store_refuses_a_file_outside_the_data(data: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text("id: x\n")
    with pytest.raises(StoreError, match="not a curated file"):
        _store(data).record_verification(
            "x", "Kim", D(2026, 1, 1), "Mod", curated=outside, rewrite=lambda t: t
        )


def test_review_module_needs_no_writer_to_answer_dates() -> None:
    assert review.OUT_OF_DATE == "may be out of date"


def test_an_approved_listing_says_who_confirmed_it_and_can_be_verified_again(
    data_dir: Path,
) -> None:
    from aop_map.store import VERIFIED_BY_PROVIDER
    from tests.test_store import listing

    store = SubmissionStore(data_dir.parent / "submissions", data_dir=data_dir)
    record = store.approve(store.submit(listing()).id, "Mo Derator")
    assert record.last_verified == dt.date.today()
    assert record.verified_by == VERIFIED_BY_PROVIDER  # never a date without a who
    path = data_dir / "community" / f"{record.id}.yaml"
    header = path.read_text().splitlines()[0]
    again = verify(store, record.id, "Kim (email)", "Mod", D(2026, 11, 30), today=D(2026, 11, 30))
    assert again.verified_by == "Kim (email)" and again.last_verified == D(2026, 11, 30)
    assert path.read_text().splitlines()[0] == header  # the store's header kept
    assert again.contact.email == record.contact.email  # nothing else lost
