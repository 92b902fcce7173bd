"""`aop-map feedback list|show|resolve|purge`: problem reports from provider pages, from a terminal.

Reports are private (one may hold the reporter's email, kept only until it is resolved or for
REPORT_EMAIL_DAYS): they live in the submissions folder, and are read, resolved and purged
through the store; every line of user text goes through ``say``.
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from aop_map.cli import say, say_json
from aop_map.cli_submissions import _store, store_command, store_options


def _plain(report: Any) -> dict[str, Any]:
    return {
        k: (str(v) if v is not None and k.endswith(("created", "_at")) else v)
        for k, v in dataclasses.asdict(report).items()
    }


def cmd_list(args: argparse.Namespace) -> int:
    """List problem reports, open ones by default."""
    status = None if args.status == "all" else args.status
    reports = _store(args).reports(status, record_id=args.record)
    if args.json:
        say_json([_plain(r) for r in reports])
    elif not reports:
        say(f"no {args.status} problem reports")
    else:
        for r in reports:
            say(f"{r.id}  {r.status:<8}  {r.record_id}  {r.topic}  {r.created:%Y-%m-%d}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """Show one problem report in full (its message and any reply address)."""
    report = _store(args).get_report(args.id)
    if args.json:
        say_json(_plain(report))
        return 0
    for key, value in _plain(report).items():
        if value is not None:
            say(f"{key}: {value}")
    return 0


def cmd_resolve(args: argparse.Namespace) -> int:
    """Close a problem report, saying how; who and when go in the report and the audit log."""
    report = _store(args).resolve_report(args.id, args.moderator, args.how, self_declared=True)
    if args.json:
        say_json(_plain(report))
    else:
        say(f"resolved {report.id} ({report.record_id}): {report.resolution}")
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    """Erase the reply emails now due (resolved reports, open ones past the limit); say how
    many. Reading reports erases them too: this is for a schedule (cron) or to check."""
    from aop_map.store import REPORT_EMAIL_DAYS

    erased = _store(args).purge_report_emails()
    if args.json:
        say_json({"erased": erased, "days": REPORT_EMAIL_DAYS})
    else:
        say(
            f"erased {erased} reply email(s) of resolved reports or of reports open "
            f"{REPORT_EMAIL_DAYS} days or more"
        )
    return 0


def _run(handler: Any) -> Any:
    return store_command(handler, "feedback")


def add_feedback_commands(sub: Any) -> None:
    """Add the `feedback` command group to the main parser."""
    parser = sub.add_parser("feedback", help="problem reports sent from provider pages")
    actions = parser.add_subparsers(dest="feedback_command", required=True, metavar="ACTION")
    where = store_options()
    where.add_argument("--json", action="store_true", help="print JSON")

    p = actions.add_parser("list", help="list problem reports", parents=[where])
    p.add_argument(
        "--status",
        default="open",
        choices=("open", "resolved", "all"),
        help="which reports (default open)",
    )
    p.add_argument("--record", help="only the reports about this record id")
    p.set_defaults(handler=_run(cmd_list))

    p = actions.add_parser("show", help="show one problem report", parents=[where])
    p.add_argument("id", help="report reference, e.g. RPT-2026-7F3K9Q")
    p.set_defaults(handler=_run(cmd_show))

    p = actions.add_parser(
        "resolve",
        help="close a problem report, saying how (erases its reply email: reply first)",
        parents=[where],
    )
    p.add_argument("id", help="report reference")
    p.add_argument("--moderator", required=True, help="your name, for the audit log")
    p.add_argument("--how", required=True, help="how it was resolved, e.g. 'record updated'")
    p.set_defaults(handler=_run(cmd_resolve))

    p = actions.add_parser(
        "purge", help="erase the reply emails kept longer than allowed", parents=[where]
    )
    p.set_defaults(handler=_run(cmd_purge))
