"""`lambdaperm validate POLICY.json --type TYPE`: check a policy document against IAM's grammar and the
rules of its type. Prints the error with its location (JSON path, line, column).

Exit status: 0 valid, 1 invalid, 2 unreadable input.
"""

from __future__ import annotations

import argparse
import json
import sys

from lambdaperm.policy import PolicyError, PolicyType, parse_policy

from .inputs import EXIT_BAD_INPUT, InputError, read_text


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("validate", help="check a policy document's grammar and per-type rules",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("policy", help="POLICY.json (or - for standard input)")
    p.add_argument("--type", required=True, choices=[t.value for t in PolicyType], dest="policy_type")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        text = read_text(args.policy)
    except InputError as err:
        print(f"lambdaperm validate: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        policy = parse_policy(text, args.policy_type)
    except PolicyError as err:
        if args.json:
            print(json.dumps({"valid": False, "errors": [{
                "code": err.code, "message": err.message, "detail": err.detail, "path": err.path,
                "line": err.line, "column": err.column}]}, indent=2))
        else:
            where = f"{args.policy}:{err.line}:{err.column}: " if err.line is not None else f"{args.policy}: "
            print(f"{where}{err.code}: {err.message}", file=sys.stdout)
            if err.detail:
                print(f"  detail: {err.detail}")
            if err.path:
                print(f"  at: {err.path}")
        return 1
    if args.json:
        print(json.dumps({"valid": True, "errors": [], "statements": len(policy.statements)}, indent=2))
    else:
        print(f"{args.policy}: valid {policy.policy_type.value} policy, {len(policy.statements)} statement(s)")
    return 0
