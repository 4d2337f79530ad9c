"""Shared helpers for the catalog tests."""

from __future__ import annotations

from collections.abc import Mapping

from lambdaperm.catalog import RequiredAction, required_actions

ACCOUNT = "111111111111"
OTHER = "222222222222"
REGION = "us-east-1"


def need(service: str, operation: str, params: Mapping[str, object] | None = None) -> list[RequiredAction]:
    return required_actions(service, operation, dict(params or {}), account=ACCOUNT, region=REGION)


def pairs(
    service: str, operation: str, params: Mapping[str, object] | None = None
) -> list[tuple[str, tuple[str, ...]]]:
    """(action, resources) of every required action, in order."""
    return [(r.action, r.resources) for r in need(service, operation, params)]
