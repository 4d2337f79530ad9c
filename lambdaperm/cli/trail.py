"""`lambdaperm trail export DIR [--state STATE]`: write every recorded call as CloudTrail log files in
the real S3 layout (`AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/…json.gz`)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("trail", help="CloudTrail records of the calls the endpoint served",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = p.add_subparsers(dest="trail_command", required=True, metavar="ACTION")
    export = actions.add_parser("export", help="write the trail as CloudTrail log files")
    export.add_argument("out_dir", type=Path, help="where to write (the bucket root)")
    export.add_argument("--state", type=Path, default=Path(".lambdaperm"), help="state directory")
    export.add_argument("--organization-id", help="write an organization trail's layout (o-…/)")
    export.set_defaults(run=run_export)


def run_export(args: argparse.Namespace) -> int:
    from lambdaperm.state import Database
    from lambdaperm.trail import TrailError, TrailStore, export

    if not (args.state / "state.db").is_file():
        print(f"lambdaperm trail export: no state in {args.state} (run lambdaperm serve first)", file=sys.stderr)
        return 2
    db = Database(args.state)
    try:
        files = export(TrailStore(db.connect), args.out_dir, now=datetime.now(UTC),
                       organization_id=args.organization_id)
    except (TrailError, OSError) as err:
        print(f"lambdaperm trail export: {err}", file=sys.stderr)
        return 2
    finally:
        db.close()
    for path in files:
        print(path)
    print(f"{len(files)} file(s) written under {args.out_dir}", file=sys.stderr)
    return 0
