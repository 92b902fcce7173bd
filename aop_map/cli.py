"""`aop-map ...` commands: parse arguments, call the library, print. No logic of its own."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from aop_map import __version__
from aop_map.text import json_terminal_safe, terminal_safe

Handler = Callable[[argparse.Namespace], int]


def say(line: object, *, err: bool = False) -> None:
    """Print one line: every print of user text goes through here, so an escape sequence in
    a name or a file shows as ``\\x1b`` instead of acting on the terminal."""
    print(terminal_safe(line), file=sys.stderr if err else sys.stdout)


def say_json(value: Any) -> None:
    """Print a value as indented JSON: unchanged data, nothing a terminal would act on."""
    print(json_terminal_safe(json.dumps(value, indent=2, ensure_ascii=False, default=str)))


def _data_dir(args: argparse.Namespace) -> Path:
    from aop_map.loading import data_dir_from_env

    given = getattr(args, "dir", None) or getattr(args, "data_dir", None)
    return Path(given) if given else data_dir_from_env()


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate and geocode every record; exit 1 when anything is wrong."""
    from aop_map.dataset import load_dataset

    dataset = load_dataset(_data_dir(args), use_cache=not args.no_cache)
    problems = [p.as_dict() for p in dataset.problems]
    if args.json:
        say_json(
            {
                "records": len(dataset.records),
                "locations": dataset.located_count,
                "problems": problems,
            }
        )
    else:
        for problem in dataset.problems:
            say(f"{problem.severity}: {problem}", err=True)
        say(
            f"{len(dataset.records)} valid records, {dataset.located_count} located "
            f"locations, {len(problems)} problem(s) in {dataset.data_dir}"
        )
    return 1 if problems else 0


def cmd_import(args: argparse.Namespace) -> int:
    """Normalise a spreadsheet into one YAML file per record in DATA_DIR/imported/."""
    from aop_map.importing import import_csv

    report = import_csv(Path(args.file), _data_dir(args), dry_run=args.dry_run)
    if args.json:
        say_json(report.as_dict())
    else:
        for problem in report.problems:
            say(f"{problem.severity}: {problem}", err=True)
        verb = "would write" if args.dry_run else "wrote"
        say(
            f"{len(report.records)} record(s) read; {verb} {len(report.written)} file(s), "
            f"{len(report.unchanged)} unchanged, {len(report.problems)} problem(s)"
        )
        for path in report.written:
            say(f"  {path}")
    return 1 if report.problems else 0


def cmd_geocode(args: argparse.Namespace) -> int:
    """Geocode postcodes, outward codes or place names offline."""
    from aop_map.geocoding import geocode_query, online_geocoder_from_env

    online = online_geocoder_from_env()
    results = [geocode_query(query, online=online) for query in args.query]
    if args.json:
        say_json([_result_dict(r) for r in results])
    else:
        for r in results:
            if r.lat is None:
                say(f"{r.query}: not found. {r.message or ''}".rstrip())
            else:
                district = f" {r.district_name} ({r.district_code})" if r.district_code else ""
                say(f"{r.query}: {r.lat:.6f}, {r.lon:.6f} [{r.precision}]{district}")
    return 0 if all(r.lat is not None for r in results) else 1


def _result_dict(result: Any) -> dict[str, Any]:
    keys = ("query", "lat", "lon", "precision", "district_code", "district_name", "message")
    return {key: getattr(result, key) for key in keys}


def cmd_export(args: argparse.Namespace) -> int:
    """Export the valid, geocoded records as CSV (formula-like cells neutralised), GeoJSON, or
    Open Referral UK services (one page of a /services response holding every service)."""
    from aop_map.dataset import load_dataset
    from aop_map.filtering import records_table, to_geojson
    from aop_map.text import table_to_csv

    dataset = load_dataset(_data_dir(args))
    if args.format == "oruk":
        from aop_map.oruk import export_feed

        feed = export_feed(dataset.records, dataset.vocabulary, dataset.frame)
        # Compact: indenting 10,000 services took 2 s and a quarter more space.
        text = json.dumps(feed, ensure_ascii=False, separators=(",", ":"))
        text = json_terminal_safe(text) + "\n"
    elif args.format == "geojson":
        text = to_geojson(dataset.frame, dataset.vocabulary)
    else:
        text = table_to_csv(records_table(dataset.frame, dataset.vocabulary))
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        say(f"wrote {args.out}", err=True)
    elif args.format == "geojson":
        sys.stdout.write(json_terminal_safe(text))  # the same JSON, escaped
    elif args.format == "oruk":
        sys.stdout.write(text)  # escaped already, for the file too (no lone surrogate)
    elif sys.stdout.isatty():  # shown, not piped: no escape sequence reaches the terminal
        sys.stdout.write("\n".join(terminal_safe(line) for line in text.split("\n")))
    else:
        sys.stdout.write(text)
    return 0


def cmd_serve_api(args: argparse.Namespace) -> int:
    """Serve the records as a read-only Open Referral UK API until interrupted."""
    import uvicorn

    from aop_map.api import DataUnavailable, create_app

    app = create_app(_data_dir(args))
    try:  # load now: a broken data directory fails here, not on the first request
        catalogue = app.state.catalogue.current()
    except DataUnavailable as error:
        say(f"aop-map serve-api: cannot load the data: {error}", err=True)
        return 2
    say(f"serving {len(catalogue.services)} services on http://{args.host}:{args.port}/", err=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0


def cmd_geodata_import(args: argparse.Namespace) -> int:
    """Use a newer ONS Postcode Directory (CSV or zip) instead of the packaged one."""
    from aop_map.geocoding import import_onspd

    path = import_onspd(Path(args.file), Path(args.dest) if args.dest else None)
    say(f"postcode lookup written to {path}")
    return 0


def _day(text: str) -> Any:
    """An argparse type: a YYYY-MM-DD date."""
    import datetime as dt

    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def cmd_review(args: argparse.Namespace) -> int:
    """List the records due for review with the provider, oldest first."""
    import datetime as dt

    from aop_map.loading import load_records
    from aop_map.review import review_months, review_report

    months = review_months()
    report = review_report(
        load_records(_data_dir(args)).records, args.today or dt.date.today(), months
    )
    if args.json:
        say_json(report)
        return 0
    for item in report["due"]:
        if item["months_since"] is None:
            age = "no date at all"
        elif item["last_verified"]:
            age = f"{item['months_since']} months since last verified"
        else:
            age = f"{item['months_since']} months since its newest source, never verified"
        say(f"{item['id']}  ({age})  {item['name']}")
        say(f"    contact: {item['contact']}")
    say(f"{len(report['due'])} record(s) due for review (every {months} months)")
    return 0


def cmd_review_verify(args: argparse.Namespace) -> int:
    """Record that a person confirmed a record's facts with the provider."""
    import datetime as dt

    from aop_map.review import VerifyError, verify
    from aop_map.store import StoreError, SubmissionStore

    root = Path(args.submissions_dir) if args.submissions_dir else None
    store = SubmissionStore(root, data_dir=_data_dir(args))
    on = args.date or dt.date.today()
    try:
        record = verify(store, args.id, args.by, args.moderator or args.by, on, self_declared=True)
    except (VerifyError, StoreError) as error:
        say(f"aop-map review verify: {error}", err=True)
        return 1
    say(f"{record.id}: verified on {on.isoformat()} by {record.verified_by}")
    return 0


def _add_review_commands(sub: Any) -> None:
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument("--data-dir", help="data directory (default $AOP_MAP_DATA_DIR or mapdata)")
    p = sub.add_parser(
        "review",
        parents=[where],
        help="records due for a check with the provider (AOP_MAP_REVIEW_MONTHS)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--today", type=_day, help="count from this day (default today)")
    p.set_defaults(handler=cmd_review)
    actions = p.add_subparsers(dest="review_command", metavar="ACTION")
    v = actions.add_parser(
        "verify", parents=[where], help="record that the facts were confirmed with the provider"
    )
    v.add_argument("id", help="record id")
    v.add_argument("--by", required=True, help="who confirmed the facts with the provider")
    v.add_argument("--date", type=_day, help="when (YYYY-MM-DD; default today)")
    v.add_argument("--moderator", help="who records it, for the audit log (default: --by)")
    v.add_argument(
        "--submissions-dir",
        help="submissions folder, with the audit log (default "
        "$AOP_MAP_SUBMISSIONS_DIR or DATA_DIR/submissions)",
    )
    v.set_defaults(handler=cmd_review_verify)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command (tests check each has help)."""
    parser = argparse.ArgumentParser(
        prog="aop-map", description="Arts-on-prescription energy map: data tools."
    )
    parser.add_argument("--version", action="version", version=f"aop-map {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("validate", help="validate and geocode records; exit 1 on any problem")
    p.add_argument("dir", nargs="?", help="data directory (default $AOP_MAP_DATA_DIR or mapdata)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--no-cache", action="store_true", help="ignore the cache of validated files")
    p.set_defaults(handler=cmd_validate)

    p = sub.add_parser("import", help="turn a spreadsheet (CSV) into YAML records")
    p.add_argument("file", help="CSV file (UTF-8, UTF-8 with BOM or Windows-1252)")
    p.add_argument(
        "--data-dir",
        "--into",
        dest="data_dir",
        help="data directory whose imported/ folder gets the YAML files "
        "(default $AOP_MAP_DATA_DIR or mapdata)",
    )
    p.add_argument("--dry-run", action="store_true", help="report what would change; write nothing")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=cmd_import)

    p = sub.add_parser("geocode", help="look up postcodes or place names offline")
    p.add_argument("query", nargs="+", help="postcode (GL50 3PR), outward code (GL14) or place")
    p.add_argument("--json", action="store_true", help="print a JSON list")
    p.set_defaults(handler=cmd_geocode)

    p = sub.add_parser("export", help="export the valid, geocoded records")
    p.add_argument(
        "--format",
        choices=("csv", "geojson", "oruk"),
        default="csv",
        help="output format (oruk: Open Referral UK services, as JSON)",
    )
    p.add_argument("--out", help="output file (default: standard output)")
    p.add_argument("--data-dir", help="data directory (default $AOP_MAP_DATA_DIR or mapdata)")
    p.set_defaults(handler=cmd_export)

    p = sub.add_parser("serve-api", help="serve a read-only Open Referral UK API of the records")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    p.add_argument("--data-dir", help="data directory (default $AOP_MAP_DATA_DIR or mapdata)")
    p.set_defaults(handler=cmd_serve_api)

    p = sub.add_parser("geodata", help="manage the offline postcode data")
    geo = p.add_subparsers(dest="geodata_command", required=True, metavar="ACTION")
    g = geo.add_parser("import", help="import a newer ONS Postcode Directory CSV or zip")
    g.add_argument("file", help="ONSPD CSV or the zip as downloaded from the ONS")
    g.add_argument("--dest", help="folder for the lookup (default $AOP_MAP_GEODATA_DIR)")
    g.set_defaults(handler=cmd_geodata_import)

    _add_review_commands(sub)

    from aop_map.cli_submissions import add_submission_commands

    add_submission_commands(sub)
    from aop_map.cli_feedback import add_feedback_commands

    add_feedback_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except (OSError, ValueError) as error:
        say(f"aop-map {args.command}: {error}", err=True)
        return 2


if __name__ == "__main__":
    sys.exit(main())
