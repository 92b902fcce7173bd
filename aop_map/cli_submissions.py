"""`aop-map submissions list|show|approve|reject`: the moderation queue from a terminal."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from typing import Any


def _store(args: argparse.Namespace) -> Any:
    from aop_map.store import SubmissionStore

    return SubmissionStore()


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


def _as_json(value: Any) -> str:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def cmd_list(args: argparse.Namespace) -> int:
    """List submissions, pending by default."""
    status = None if args.status == "all" else args.status
    rows = [_summary(s) for s in _store(args).list(status)]
    if args.json:
        print(_as_json(rows))
    elif not rows:
        print(f"no {args.status} submissions")
    else:
        for row in rows:
            print(f"{row['id']}  {row['status']:<9}  {row['name']}  ({row['problems']} problem(s))")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """Show one submission with its problems."""
    submission = _store(args).get(args.id)
    if args.json:
        print(_as_json(submission))
    else:
        print(
            _as_json(
                {
                    "id": submission.id,
                    "status": submission.status,
                    "data": submission.data,
                    "problems": submission.problems,
                }
            )
        )
    return 0


def cmd_approve(args: argparse.Namespace) -> int:
    """Approve a submission: it becomes a record in the data directory."""
    record = _store(args).approve(args.id, args.moderator)
    result = {"id": args.id, "status": "approved", "record_id": record.id}
    print(_as_json(result) if args.json else f"approved {args.id} as record {record.id}")
    return 0


def cmd_reject(args: argparse.Namespace) -> int:
    """Reject a submission with a reason."""
    submission = _store(args).reject(args.id, args.moderator, args.reason)
    result = {"id": submission.id, "status": submission.status, "reason": args.reason}
    print(_as_json(result) if args.json else f"rejected {args.id}: {args.reason}")
    return 0


def _run(handler: Any) -> Any:
    def run(args: argparse.Namespace) -> int:
        from aop_map.store import StoreError

        try:
            return handler(args)
        except StoreError as error:
            print(f"aop-map submissions: {error}", file=sys.stderr)
            return 1

    run.__doc__ = handler.__doc__
    return run


def add_submission_commands(sub: Any) -> None:
    """Add the `submissions` command group to the main parser."""
    parser = sub.add_parser("submissions", help="review listings submitted through the app")
    actions = parser.add_subparsers(dest="submissions_command", required=True, metavar="ACTION")

    p = actions.add_parser("list", help="list submissions")
    p.add_argument(
        "--status",
        default="pending",
        choices=("pending", "approved", "rejected", "withdrawn", "all"),
        help="which submissions (default pending)",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=_run(cmd_list))

    p = actions.add_parser("show", help="show one submission")
    p.add_argument("id", help="submission reference, e.g. AOP-2026-7F3K9Q")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=_run(cmd_show))

    p = actions.add_parser("approve", help="publish a submission as a record")
    p.add_argument("id", help="submission reference")
    p.add_argument("--moderator", required=True, help="your name, for the audit log")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=_run(cmd_approve))

    p = actions.add_parser("reject", help="reject a submission with a reason")
    p.add_argument("id", help="submission reference")
    p.add_argument("--moderator", required=True, help="your name, for the audit log")
    p.add_argument("--reason", required=True, help="why, shown to the submitter")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=_run(cmd_reject))
