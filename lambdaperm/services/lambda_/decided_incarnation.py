"""A Lambda call acts only on the incarnation of the function its authorization read.

Another account may call most operations on a function where the function's resource-based policy allows it
(https://docs.aws.amazon.com/lambda/latest/dg/permissions-function-cross-account.html), and that policy is deleted
with the function (https://docs.aws.amazon.com/lambda/latest/api/API_DeleteFunction.html). A call decided on a
function's policy and executed after the function was deleted and another created under its name acted on the new
function, which allowed nothing (races review round 4: another account's UpdateFunctionCode replaced the new
function's code, which then ran as its owner's role). Round 2 pinned the incarnation for Invoke only
(`incarnation.py`); here every Lambda handler runs with the incarnations read before its decision, and the store
(`store.load`, `store.find`) does not see a function of another incarnation under a pinned ARN: the call answers
ResourceNotFoundException, as it would after the deletion. The check is where each handler reads the function,
inside its own transaction, so a re-creation at any moment after the pin is caught.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from ..context import Handler, Output, Params, RequestContext

_EXPECTED: ContextVar[Mapping[str, str] | None] = ContextVar("lambda_decided_incarnation", default=None)


@contextmanager
def decided(pinned: Mapping[str, str | None]) -> Iterator[None]:
    """Within: functions found under a pinned ARN with another incarnation are not seen (see the module)."""
    token = _EXPECTED.set({arn: found for arn, found in pinned.items() if found is not None})
    try:
        yield
    finally:
        _EXPECTED.reset(token)


def visible(fn: Mapping[str, Any]) -> bool:
    """Whether `fn` is the incarnation the current call was authorized on (or the call pinned none), with each
    alias the call pinned still the alias it was authorized on (an alias deleted and created again under its name
    hides the function from the call, as the deletion would have: races review round 7)."""
    expected = _EXPECTED.get()
    if not expected:  # None outside a call, {} when the call pinned nothing
        return True
    arn = ":".join(str(fn.get("Arn")).split(":")[:7])
    if arn in expected and expected[arn] != fn.get("Incarnation"):
        return False
    aliases = fn.get("Aliases") or {}
    for pinned, incarnation in expected.items():
        if pinned.startswith(arn + ":"):
            alias = aliases.get(pinned[len(arn) + 1 :])
            if alias is not None and str(alias.get("Incarnation", "")) != incarnation:
                return False
    return True


def bound(handler: Handler) -> Handler:
    """`handler`, run with the incarnations its call pinned before the decision (`RequestContext.pinned`)."""

    def run(ctx: RequestContext, p: Params) -> Output:
        with decided(ctx.pinned):
            return handler(ctx, p)

    return run
