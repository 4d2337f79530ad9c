"""`lambdaperm validate POLICY.json --type TYPE`: check a policy document against IAM's grammar and the
rules of its type, and report EVERY error (JSON path, line, column), not only the first one IAM would answer.

Actions no service defines (`lambda:InvokeFuncton`) are findings, from the Service Authorization Reference:
IAM accepts them and they grant or deny nothing. `--type identity` checks a customer managed policy (quota
6,144 characters; `"Version": "2012-10-17"` required) unless `--inline user|group|role` names the entity an
inline policy goes to: its quota is the entity's aggregate inline quota, 2,048 / 5,120 / 10,240 characters
without whitespace (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html; this
document alone is checked against it).

Exit status: 0 valid with no finding, 1 errors or findings, 2 unreadable input or bad options.
"""

from __future__ import annotations

import argparse
import json
import sys

from lambdaperm.policy import PolicyError, PolicyType, check_policy

from .action_findings import ActionFinding, action_findings
from .inputs import EXIT_BAD_INPUT, InputError, read_text

# Aggregate inline policy quotas (characters, whitespace excluded) of IAM, by entity.
INLINE_QUOTAS = {"user": 2048, "group": 5120, "role": 10240}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "validate",
        help="check a policy document's grammar and per-type rules",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("policy", help="POLICY.json (or - for standard input)")
    p.add_argument("--type", required=True, choices=[t.value for t in PolicyType], dest="policy_type")
    p.add_argument(
        "--inline",
        choices=sorted(INLINE_QUOTAS),
        metavar="{user,group,role}",
        help="with --type identity: an inline policy of this entity (its quota; Version may be omitted)",
    )
    p.add_argument(
        "--no-action-check", action="store_true", help="do not look actions up in the Service Authorization Reference"
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(run=run)


def _row(err: PolicyError) -> dict[str, object]:
    return {
        "code": err.code,
        "message": err.message,
        "detail": err.detail,
        "path": err.path,
        "line": err.line,
        "column": err.column,
    }


def _finding(f: ActionFinding) -> dict[str, object]:
    return {
        "code": f.code,
        "action": f.action,
        "message": f.message,
        "path": f.path,
        "line": f.line,
        "column": f.column,
    }


def _table(rows: list[dict[str, object]]) -> list[str]:
    header = ("LINE", "COL", "PATH", "CODE", "MESSAGE")
    cells = [
        tuple("" if r[k] is None else str(r[k]) for k in ("line", "column", "path", "code", "message")) for r in rows
    ]
    widths = [max(len(c[i]) for c in [header, *cells]) for i in range(4)]
    return ["  ".join([*(c[i].ljust(widths[i]) for i in range(4)), c[4]]).rstrip() for c in [header, *cells]]


def run(args: argparse.Namespace) -> int:
    if args.inline and args.policy_type != PolicyType.IDENTITY.value:
        print("lambdaperm validate: --inline applies to --type identity only", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        text = read_text(args.policy)
    except InputError as err:
        print(f"lambdaperm validate: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    identity = args.policy_type == PolicyType.IDENTITY.value
    errors = check_policy(
        text,
        args.policy_type,
        max_size=INLINE_QUOTAS[args.inline] if args.inline else None,
        managed=identity and not args.inline,
    )
    findings = [] if args.no_action_check else action_findings(text)
    rows = sorted(
        [*map(_row, errors), *map(_finding, findings)],
        key=lambda r: (r["line"] is None, r["line"] or 0, r["column"] or 0),
    )
    if args.json:
        out: dict[str, object] = {
            "valid": not errors,
            "errors": [_row(e) for e in errors],
            "findings": [_finding(f) for f in findings],
        }
        print(json.dumps(out, indent=2))
    elif rows:
        print("\n".join(_table(rows)))
        print(f"{args.policy}: {len(errors)} error(s), {len(findings)} finding(s)")
    else:
        kind = f"inline {args.inline}" if args.inline else ("managed identity" if identity else args.policy_type)
        print(f"{args.policy}: valid {kind} policy")
    return 1 if rows else 0
