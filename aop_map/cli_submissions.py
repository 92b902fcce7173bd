"""`aop-map submissions list|show|approve|reject|purge`: the moderation queue from a terminal.

A rejected submission's personal data is kept only REJECTED_KEEP_DAYS: reading or changing
submissions erases what is due, and ``purge`` does it now (for a schedule, or to check).
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

from aop_map.cli import say, say_json


def _store(args: argparse.Namespace) -> Any:
    """The store of the data directory given (else $AOP_MAP_DATA_DIR, else mapdata/)."""
    from aop_map.store import SubmissionStore

    root = Path(args.submissions_dir) if args.submissions_dir else None
    return SubmissionStore(root, data_dir=Path(args.data_dir) if args.data_dir else None)


def _summary(submission: Any) -> dict[str, Any]:
    data = submission.data or {}
    return {
        "id": submission.id,
        "status": submission.status,
        "name": data.get("name"),
        "created": str(submission.created),
        "update_of": submission.update_of,
        "record_id": submission.record_id,
        "problems": len(submission.problems or []),
    }


def _say_json(value: Any) -> None:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    say_json(value)


def cmd_list(args: argparse.Namespace) -> int:
    """List submissions, pending by default."""
    status = None if args.status == "all" else args.status
    rows = [_summary(s) for s in _store(args).list(status)]
    if args.json:
        _say_json(rows)
    elif not rows:
        say(f"no {args.status} submissions")
    else:
        for row in rows:
            say(f"{row['id']}  {row['status']:<9}  {row['name']}  ({row['problems']} problem(s))")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """Show one submission with its problems."""
    submission = _store(args).get(args.id)
    if args.json:
        _say_json(submission)
    else:
        _say_json(
            {
                "id": submission.id,
                "status": submission.status,
                "data": submission.data,
                "problems": submission.problems,
            }
        )
    return 0


def cmd_approve(args: argparse.Namespace) -> int:
    """Approve a submission: it becomes a record in the data directory."""
    record = _store(args).approve(args.id, args.moderator, self_declared=True)
    result = {"id": args.id, "status": "approved", "record_id": record.id}
    if args.json:
        _say_json(result)
    else:
        say(f"approved {args.id} as record {record.id}")
    return 0


def cmd_reject(args: argparse.Namespace) -> int:
    """Reject a submission with a reason."""
    submission = _store(args).reject(args.id, args.moderator, args.reason, self_declared=True)
    result = {"id": submission.id, "status": submission.status, "reason": args.reason}
    if args.json:
        _say_json(result)
    else:
        say(f"rejected {args.id}: {args.reason}")
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    """Erase the personal data now due (submissions rejected the limit or more days ago, not
    sent again); say how many. Reading submissions erases it too: this is for a schedule (cron)
    or to check."""
    from aop_map.store import REJECTED_KEEP_DAYS

    erased = _store(args).purge_personal_data()
    if args.json:
        _say_json({"erased": erased, "days": REJECTED_KEEP_DAYS})
    else:
        say(
            f"erased the personal data of {erased} submission(s) rejected "
            f"{REJECTED_KEEP_DAYS} days or more ago"
        )
    return 0


def store_command(handler: Any, command: str = "submissions") -> Any:
    """`handler(args)` with a store error printed as one line (`aop-map COMMAND: ...`), exit 1.
    Shared by the commands that work on the private store (submissions, feedback)."""

    def run(args: argparse.Namespace) -> int:
        from aop_map.store import StoreError

        try:
            return handler(args)
        except StoreError as error:
            say(f"aop-map {command}: {error}", err=True)
            return 1

    run.__doc__ = handler.__doc__
    return run


_run = store_command


def store_options() -> argparse.ArgumentParser:
    """The data directory options every store command takes, as validate, import and export."""
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument("--data-dir", help="data directory (default $AOP_MAP_DATA_DIR or mapdata)")
    where.add_argument(
        "--submissions-dir",
        help="submissions folder (default $AOP_MAP_SUBMISSIONS_DIR or DATA_DIR/submissions)",
    )
    return where


def add_submission_commands(sub: Any) -> None:
    """Add the `submissions` command group to the main parser."""
    parser = sub.add_parser("submissions", help="review listings submitted through the app")
    actions = parser.add_subparsers(dest="submissions_command", required=True, metavar="ACTION")
    where = store_options()

    p = actions.add_parser("list", help="list submissions", parents=[where])
    p.add_argument(
        "--status",
        default="pending",
        choices=("pending", "approved", "rejected", "withdrawn", "all"),
        help="which submissions (default pending)",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=_run(cmd_list))

    p = actions.add_parser("show", help="show one submission", parents=[where])
    p.add_argument("id", help="submission reference, e.g. AOP-2026-7F3K9Q")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=_run(cmd_show))

    p = actions.add_parser("approve", help="publish a submission as a record", parents=[where])
    p.add_argument("id", help="submission reference")
    p.add_argument("--moderator", required=True, help="your name, for the audit log")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=_run(cmd_approve))

    p = actions.add_parser("reject", help="reject a submission with a reason", parents=[where])
    p.add_argument("id", help="submission reference")
    p.add_argument("--moderator", required=True, help="your name, for the audit log")
    p.add_argument("--reason", required=True, help="why, shown to the submitter")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=_run(cmd_reject))

    p = actions.add_parser(
        "purge",
        help="erase the personal data of rejected submissions kept longer than allowed",
        parents=[where],
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=_run(cmd_purge))
