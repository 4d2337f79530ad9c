"""`lambdaperm simulate REQUEST.json [--json]`: decide one request offline and explain the decision.

Exit status: 0 allowed, 1 denied, 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import sys

from lambdaperm.policy import Decision, EvalDecision, PolicyError, Scenario

from .inputs import EXIT_BAD_INPUT, InputError, read_json


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("simulate", help="decide one request against a set of policies, offline",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("request", help="REQUEST.json (or - for standard input)")
    p.add_argument("--json", action="store_true", help="print the decision as JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        scenario = Scenario.from_json(read_json(args.request))
        decision = scenario.decide()
    except (InputError, PolicyError) as err:
        print(f"lambdaperm simulate: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.json:
        print(json.dumps(decision.to_json(), indent=2))
    else:
        print(explain(scenario, decision))
    return 0 if decision.allowed else 1


def explain(scenario: Scenario, decision: Decision) -> str:
    req = scenario.request
    verdict = {EvalDecision.ALLOWED: "ALLOWED", EvalDecision.EXPLICIT_DENY: "DENIED (explicit deny)",
               EvalDecision.IMPLICIT_DENY: "DENIED (implicit deny)"}[decision.outcome]
    lines = [
        f"Decision:   {verdict}",
        f"Principal:  {req.caller.arn}",
        f"Action:     {req.action}",
        f"Resource:   {req.resource}",
        f"Decided by: {decision.decided_by}",
        f"Message:    {decision.message}",
    ]
    if decision.matched_statements:
        lines.append("Matched statements:")
        for m in decision.matched_statements:
            sid = f" Sid {m.sid!r}" if m.sid else ""
            lines.append(f"  - {m.effect} in {m.policy_name or m.policy_type}, statement {m.statement_index}{sid}")
    if decision.missing_context_values:
        lines.append("Context keys the policies test but the request lacks: "
                     + ", ".join(decision.missing_context_values))
    return "\n".join(lines)
