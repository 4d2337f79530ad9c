"""A function URL request runs the function, alias and URL its decision was made on.

A function URL is handled outside the main pipeline (`function_urls.handle`): it reads the URL and its function,
decides on the function (or alias) policy as it is at the decision, then runs. If the function or the alias was
deleted and created again under its name in between, the decision read the new policy while the run used the
function read before: a private function (or the version a private alias pointed at) ran for a caller only the new
policy allowed (races review round 8). A URL dies with its function or alias, and the new one has a URL of its own
(https://docs.aws.amazon.com/lambda/latest/dg/urls-configuration.html); a deleted function's or alias's policy goes
with it (https://docs.aws.amazon.com/lambda/latest/api/API_DeleteFunction.html,
https://docs.aws.amazon.com/lambda/latest/api/API_DeleteAlias.html). So the function is read again after the
decision and the request runs only when it is the same incarnation, the alias the same alias and the URL's
configuration (its AuthType, read into the decision) unchanged; otherwise the answer is the URL's 404, as after the
deletion.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _alias_incarnation(fn: Mapping[str, Any], slot: str) -> str | None:
    alias = (fn.get("Aliases") or {}).get(slot) if slot else None
    return None if alias is None else str(alias.get("Incarnation", ""))


def same_target(decided: Mapping[str, Any], now: Mapping[str, Any] | None, slot: str) -> bool:
    """Whether `now` (the function read after the decision) is what the decision read as `decided`: the same
    incarnation, the same alias incarnation for an alias URL, the same URL configuration for the slot."""
    if now is None or now.get("Incarnation") != decided.get("Incarnation"):
        return False
    if _alias_incarnation(now, slot) != _alias_incarnation(decided, slot):
        return False
    return bool((now.get("Urls") or {}).get(slot) == (decided.get("Urls") or {}).get(slot))
