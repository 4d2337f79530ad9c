"""The exception table: operations whose IAM authorization is not "the action of the same name"."""

from __future__ import annotations

from functools import cache

from .model import Derived, Deriver, Need, Rule, When

__all__ = ["Derived", "Deriver", "Need", "Rule", "When", "rule", "rules"]


@cache
def rules() -> dict[tuple[str, str], Rule]:
    """Every row, keyed by (botocore service, operation). A duplicate row is a data error."""
    from . import dynamodb, lambda_, others, s3

    out: dict[tuple[str, str], Rule] = {}
    for row in (*lambda_.RULES, *s3.RULES, *dynamodb.RULES, *others.RULES):
        key = (row.service, row.operation)
        if key in out:
            raise ValueError(f"duplicate exception row for {key}")
        out[key] = row
    return out


def rule(service: str, operation: str) -> Rule | None:
    return rules().get((service, operation))
