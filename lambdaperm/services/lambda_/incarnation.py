"""Which incarnation of a function a call was authorized on.

A function's resource-based policy is deleted with the function. If a function is deleted and another created
under the same name while an Invoke is between its authorization (decided on the old function's policy) and
its run, the run must not execute the new function for a caller only the old policy allowed. So the incarnation
(an id given at CreateFunction) is read *before* the decision and the invoke runs only that incarnation: if
the function changed hands in between, the answer is ResourceNotFoundException, as if the invoke had come after
the deletion. Reading it before the decision means any re-creation after that read is caught, whichever policy
the decision then read.
https://docs.aws.amazon.com/lambda/latest/api/API_DeleteFunction.html
"""

from __future__ import annotations

from typing import Any

from lambdaperm.protocol.errors import ServiceError
from lambdaperm.state import Records

from . import store
from .errors import function_not_found
from .names import parse_function

_INVOKES = frozenset({"Invoke", "InvokeAsync", "InvokeWithResponseStream"})
# the tagging calls name their function by `Resource` (a function ARN), not `FunctionName` (races review round 7)
_BY_RESOURCE = frozenset({"TagResource", "UntagResource", "ListTags"})


def function_member(operation: str) -> str:
    """The member that names the function a Lambda call acts on."""
    return "Resource" if operation in _BY_RESOURCE else "FunctionName"


def pin(records: Records, operation: str, params: dict[str, Any], account: str, region: str) -> dict[str, str | None]:
    """{function ARN: incarnation} read now (before the call's authorization): for an invoke, None when there is
    no function; for any other call naming an existing function (CreateFunction aside), its incarnation
    (`decided_incarnation`: races review round 4); {} otherwise. A qualifier that is an alias adds
    {alias ARN: the alias's incarnation}: an alias deleted and created again (its own policy gone with it) is
    another alias (races review round 7)."""
    named = params.get(function_member(operation))
    if operation == "CreateFunction" or not isinstance(named, str):
        return {}
    try:
        ref = parse_function(named, params.get("Qualifier"), account=account, region=region)
    except ServiceError:
        return {}  # the service answers the bad name itself
    fn = store.find(records, ref)
    if fn is None and operation not in _INVOKES:
        return {}
    pinned = {_unqualified(ref.arn): None if fn is None else fn.get("Incarnation")}
    alias = (fn.get("Aliases") or {}).get(ref.qualifier) if fn is not None and ref.qualifier else None
    if alias is not None:
        pinned[f"{_unqualified(ref.arn)}:{ref.qualifier}"] = str(alias.get("Incarnation", ""))
    return pinned


def check(pinned: dict[str, str | None], fn: store.Function) -> None:
    """ResourceNotFoundException when `fn` is not the incarnation the call was authorized on, or an alias the call
    pinned is no longer the alias it was authorized on (deleted, or deleted and created again: its policy went with
    it; push deliveries check here, races review round 8)."""
    arn = _unqualified(str(fn["Arn"]))
    if arn in pinned and pinned[arn] != fn.get("Incarnation"):
        raise function_not_found(arn)
    aliases = fn.get("Aliases") or {}
    for qualified, incarnation in pinned.items():
        if qualified.startswith(arn + ":"):
            alias = aliases.get(qualified[len(arn) + 1 :])
            if alias is None or str(alias.get("Incarnation", "")) != incarnation:
                raise function_not_found(qualified)


def _unqualified(arn: str) -> str:
    parts = arn.split(":")
    return ":".join(parts[:7])
