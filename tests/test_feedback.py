"""Problem reports from provider pages (issue 12 §4): the store, the `feedback` CLI, the
provider page's form and the moderation page's list."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from aop_map import ui, views
from aop_map.cli import main
from aop_map.limits import REGISTER, register_entries
from aop_map.store import (
    MAX_REPORT_MESSAGE,
    REPORT_EMAIL_DAYS,
    InvalidTransition,
    ProblemReport,
    RecordNotFound,
    StoreError,
    SubmissionStore,
)
from tests.test_register_app import APP, data, open_page, sign_in, text, widget  # noqa: F401

RECORD = "breathe-choir"  # the record of test_register_app's `data` fixture
PASSWORD = "a long enough moderator password"
EMAIL = "me@example.org"
START = dt.datetime(2026, 1, 5, 9, 30, tzinfo=dt.UTC)


@pytest.fixture
def store(data: Path) -> SubmissionStore:  # noqa: F811 (the fixture above)
    return SubmissionStore()


def test_a_report_is_kept_privately_and_audited_without_its_text(
    store: SubmissionStore,
    data: Path,  # noqa: F811
) -> None:
    reference = store.report_problem(
        RECORD, "out-of-date", "Moved to <b>Tuesdays</b>", email="me@example.org"
    )
    (report,) = store.reports("open")
    assert report.id == reference and reference.startswith("RPT-")
    assert (report.record_id, report.topic, report.email) == (
        RECORD,
        "out-of-date",
        "me@example.org",
    )
    assert report.message == "Moved to <b>Tuesdays</b>"  # kept exactly, as text
    files = [p for p in data.rglob("*") if p.is_file()]
    private = store.root / "reports" / f"{reference}.yaml"
    assert private in files and private.stat().st_mode & 0o077 == 0
    published = [p for p in files if "submissions" not in p.parts]
    assert not any("me@example.org" in p.read_text(errors="replace") for p in published)
    audit = store.audit_log()[-1]
    assert audit["action"] == "reported" and audit["report"] == reference
    assert "me@example.org" not in json.dumps(audit) and "Tuesdays" not in json.dumps(audit)


@pytest.mark.parametrize(
    ("record_id", "topic", "message", "email", "error"),
    [
        ("no-such-record", "other", "x", None, RecordNotFound),
        (RECORD, "spam", "x", None, StoreError),
        (RECORD, "other", "   ", None, StoreError),
        (RECORD, "other", "x" * (MAX_REPORT_MESSAGE + 1), None, StoreError),
        (RECORD, "other", "x", "not an address", StoreError),
        (RECORD, "other", "x", "a@b.co" + "x" * 300, StoreError),
    ],
)
def test_bad_reports_are_refused(
    store: SubmissionStore, record_id, topic, message, email, error
) -> None:
    with pytest.raises(error):
        store.report_problem(record_id, topic, message, email=email)
    assert store.reports() == []


def test_resolving_records_who_and_how_once(store: SubmissionStore) -> None:
    reference = store.report_problem(RECORD, "ended", "The choir stopped in May.")
    with pytest.raises(StoreError):
        store.resolve_report(reference, "Sam", "  ")
    resolved = store.resolve_report(reference, "Sam", "record marked ended")
    assert (resolved.status, resolved.resolved_by, resolved.resolution) == (
        "resolved",
        "Sam",
        "record marked ended",
    )
    assert store.reports("open") == [] and store.get_report(reference).status == "resolved"
    with pytest.raises(InvalidTransition):
        store.resolve_report(reference, "Sam", "again")
    entry = store.audit_log()[-1]
    assert (entry["action"], entry["who"], entry["how"]) == (
        "report-resolved",
        "Sam",
        "record marked ended",
    )
    with pytest.raises(StoreError):
        store.get_report("../../etc/passwd")


def emails_on_disk(store: SubmissionStore) -> list[str]:
    """The files of the submissions folder that hold EMAIL (the report files, the audit log)."""
    return [
        p.name for p in store.root.rglob("*") if p.is_file() and EMAIL.encode() in p.read_bytes()
    ]


def test_resolving_erases_the_email_and_audits_that_never_the_email(
    store: SubmissionStore,
) -> None:
    reference = store.report_problem(RECORD, "wrong-details", "Wrong phone.", email=EMAIL)
    assert store.get_report(reference).email == EMAIL and emails_on_disk(store) == [
        f"{reference}.yaml"
    ]
    resolved = store.resolve_report(reference, "Sam", "replied and updated")
    assert resolved.email is None and resolved.email_erased_at is not None
    assert store.get_report(reference).email is None and emails_on_disk(store) == []
    entry = store.audit_log()[-1]
    assert (entry["action"], entry["email_erased"]) == ("report-resolved", True)
    quiet = store.report_problem(RECORD, "other", "No address given.")
    assert store.resolve_report(quiet, "Sam", "fixed").email_erased_at is None
    assert "email_erased" not in store.audit_log()[-1]  # nothing was erased


def test_an_open_report_keeps_its_email_only_for_the_retention_period(data: Path) -> None:  # noqa: F811
    now = [START]
    store = SubmissionStore(clock=lambda: now[0])
    old = store.report_problem(RECORD, "out-of-date", "Moved.", email=EMAIL)
    now[0] = START + dt.timedelta(days=REPORT_EMAIL_DAYS - 1)
    fresh = store.report_problem(RECORD, "ended", "Stopped.", email="other@example.org")
    assert [r.email for r in store.reports()] == [EMAIL, "other@example.org"]  # a day to go
    now[0] = START + dt.timedelta(days=REPORT_EMAIL_DAYS)
    by_id = {r.id: r for r in store.reports("open")}  # reading erases what is due
    assert by_id[old].email is None and by_id[old].email_erased_at == now[0]
    assert by_id[fresh].email == "other@example.org"
    assert emails_on_disk(store) == []
    (entry,) = [e for e in store.audit_log() if e["action"] == "report-email-erased"]
    assert (entry["report"], entry["who"], entry["reason"]) == (
        old,
        "aop-map",
        f"kept {REPORT_EMAIL_DAYS} days",
    )
    assert store.purge_report_emails() == 0  # nothing left to erase: nothing audited twice
    now[0] = START + dt.timedelta(days=2 * REPORT_EMAIL_DAYS)
    assert store.get_report(fresh).email is None  # reading one report erases it too
    assert "other@example.org" not in store.audit_path.read_text(encoding="utf-8")


def test_writing_a_report_erases_the_emails_due(data: Path) -> None:  # noqa: F811
    now = [START]
    store = SubmissionStore(clock=lambda: now[0])
    old = store.report_problem(RECORD, "other", "Old.", email=EMAIL)
    now[0] = START + dt.timedelta(days=REPORT_EMAIL_DAYS + 1)
    store.report_problem(RECORD, "other", "New.")
    assert emails_on_disk(store) == []
    doc = (store.root / "reports" / f"{old}.yaml").read_text(encoding="utf-8")
    assert "email_erased_at" in doc


@pytest.mark.parametrize(
    ("email", "erased", "says"),
    [
        (
            EMAIL,
            None,
            "reply before resolving: resolving erases this address, and it is erased "
            "anyway on 05 Apr 2026",
        ),
        (None, START, "The reply address was erased on 05 Jan 2026"),
        (None, None, "No reply address given."),
    ],
)
def test_the_moderators_see_how_long_a_reply_address_is_kept(
    email: str | None, erased: dt.datetime | None, says: str
) -> None:
    report = ProblemReport(
        "RPT-2026-7F3K9Q", RECORD, "other", "x", START, email=email, email_erased_at=erased
    )
    assert says in views.report_details(report)


def age_report(store: SubmissionStore, reference: str, days: int, **changes: str) -> None:
    """Write a report's created date (and other fields) back by ``days``, as an old file."""
    path = store.root / "reports" / f"{reference}.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    created = dt.datetime.fromisoformat(str(doc["created"])) - dt.timedelta(days=days)
    path.write_text(yaml.safe_dump({**doc, "created": created.isoformat(), **changes}))


def test_feedback_purge_erases_the_emails_due_and_says_how_many(
    store: SubmissionStore,
    data: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    old = store.report_problem(RECORD, "out-of-date", "Old.", email=EMAIL)
    legacy = store.report_problem(RECORD, "ended", "Resolved by an older version.", email=EMAIL)
    quiet = store.report_problem(RECORD, "other", "Old, no address.")
    fresh = store.report_problem(RECORD, "other", "New.", email="new@example.org")
    age_report(store, old, REPORT_EMAIL_DAYS + 1)  # after the last write: writes erase too
    age_report(store, legacy, 1, status="resolved", resolved_by="Sam", resolution="done")
    age_report(store, quiet, REPORT_EMAIL_DAYS + 1)
    assert main(["feedback", "purge", "--data-dir", str(data)]) == 0
    assert capsys.readouterr().out.startswith("erased 2 reply email(s)")
    assert emails_on_disk(store) == [] and store.get_report(fresh).email == "new@example.org"
    erased = [e for e in store.audit_log() if e["action"] == "report-email-erased"]
    assert sorted((e["report"], e["reason"]) for e in erased) == sorted(
        [(old, f"kept {REPORT_EMAIL_DAYS} days"), (legacy, "resolved")]
    )
    assert main(["feedback", "purge", "--data-dir", str(data), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"erased": 0, "days": REPORT_EMAIL_DAYS}


def feedback(*args: str, env_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aop_map", "feedback", *args, "--data-dir", str(env_dir)],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_the_feedback_cli_lists_shows_and_resolves(
    store: SubmissionStore,
    data: Path,  # noqa: F811
) -> None:
    reference = store.report_problem(
        RECORD, "wrong-details", "Phone is \x1b[31mwrong", email="me@example.org"
    )
    listed = feedback("list", env_dir=data)
    assert listed.returncode == 0 and reference in listed.stdout and RECORD in listed.stdout
    shown = feedback("show", reference, env_dir=data)
    assert "\x1b" not in shown.stdout and "\\x1b" in shown.stdout  # terminal-safe
    assert "me@example.org" in shown.stdout
    rows = json.loads(feedback("list", "--json", env_dir=data).stdout)
    assert [r["id"] for r in rows] == [reference]
    done = feedback(
        "resolve", reference, "--moderator", "Sam", "--how", "fixed", "--json", env_dir=data
    )
    assert done.returncode == 0 and json.loads(done.stdout)["resolved_by"] == "Sam"
    assert "no open problem reports" in feedback("list", env_dir=data).stdout
    again = feedback("resolve", reference, "--moderator", "Sam", "--how", "x", env_dir=data)
    assert again.returncode == 1 and "already resolved" in again.stderr
    other = data.parent / "elsewhere"
    moved = subprocess.run(
        [
            sys.executable,
            "-m",
            "aop_map",
            "feedback",
            "list",
            "--status",
            "all",
            "--data-dir",
            str(data),
            "--submissions-dir",
            str(other),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert moved.returncode == 0 and reference not in moved.stdout


def report_from_page(record_id: str, message: str, email: str = "", bot: str = "") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params["id"] = record_id
    at.run()  # the home page rewrites the URL: give the provider page its id again
    at.query_params["id"] = record_id
    at.switch_page("pages/provider.py").run()
    assert not at.exception, [e.value for e in at.exception]
    at.radio(key="report_topic").set_value("out-of-date")
    at.text_area(key="report_message").input(message)
    at.text_input(key="report_email").input(email)
    at.text_input(key="report_hp").input(bot)
    widget(at.button, "Send the report").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_report_sent_from_the_provider_page_reaches_the_moderation_page(
    data: Path,  # noqa: F811 (the fixture)
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    at = report_from_page(RECORD, "**Moved** to [Tuesdays](http://evil)", "me@example.org")
    label = at.text_input(key="report_email").label
    assert "deleted once your report is dealt with" in label
    assert f"after {REPORT_EMAIL_DAYS} days" in label
    (report,) = SubmissionStore().reports("open")
    assert report.id in text(at) and report.message.startswith("**Moved**")
    monkeypatch.setenv("AOP_MAP_MODERATOR_PASSWORD", PASSWORD)
    at = sign_in(open_page("pages/moderate.py"), "Sam", PASSWORD)
    labels = "".join(e.label for e in at.expander)
    assert report.id in labels and "Breathe Choir" in labels
    assert report.message in [c.value for c in at.code]  # a code block: never rendered
    assert "reply before resolving: resolving erases this address" in text(at)
    widget(at.text_input, "How was it resolved").input("record updated").run()
    widget(at.button, "Mark resolved").click().run()
    assert not at.exception and f"Resolved {report.id}" in text(at)
    resolved = SubmissionStore().get_report(report.id)
    assert resolved.resolved_by == "Sam" and resolved.email is None


def test_reports_are_limited_on_the_server_and_bots_store_nothing(data: Path) -> None:  # noqa: F811
    assert "could not be sent" in text(report_from_page(RECORD, "spam", bot="http://x"))
    assert SubmissionStore().reports() == []
    for _ in range(REGISTER.free):
        report_from_page(RECORD, "real")
    assert SubmissionStore().limits.count(*register_entries(ui.client_address())[0]) >= 3
    shown = text(report_from_page(RECORD, "one too many"))  # a fresh session: no reset
    assert "Please try again in" in shown
    assert len(SubmissionStore().reports()) == REGISTER.free


def test_a_change_to_a_reported_record_says_so_beside_it(
    store: SubmissionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference = store.report_problem(RECORD, "wrong-details", "The postcode is wrong.")
    store.submit(
        {
            "name": "Breathe Choir",
            "kind": "organisation",
            "status": "established",
            "locations": [{"postcode": "GL14 2AA"}],
            "consent": {"listing": True},
        },
        update_of=RECORD,
    )
    monkeypatch.setenv("AOP_MAP_MODERATOR_PASSWORD", PASSWORD)
    at = sign_in(open_page("pages/moderate.py"), "Sam", PASSWORD)
    assert f"1 open problem report(s) about this record ({reference})" in text(at)
