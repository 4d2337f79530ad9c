"""The authorization request: who, what, on which resource, with which context keys.

Requests are immutable and hashable, so a decision can be memoized for a hot repeated request.
Context keys are stored lower-cased (IAM condition keys are case-insensitive) with a tuple of string
values (one value for single-valued keys, any number for multi-valued keys). `unsupplied` names the keys
AWS would have put in the context but the caller could not compute (see `unsupplied.py`): conditions on
them are undecidable, never evaluated as if the key were absent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from .arn import arn_account, split_arn
from .principals import Caller, PrincipalKind
from .unsupplied import NONE, Unsupplied, unsupplied

ContextValue = str | bool | int | float | Sequence[str | bool | int | float]


def _text(value: str | bool | int | float) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def normalize_context(context: Mapping[str, ContextValue]) -> dict[str, tuple[str, ...]]:
    """Lower-case the keys and turn every value into a tuple of strings."""
    out: dict[str, tuple[str, ...]] = {}
    for key, value in context.items():
        if isinstance(value, str | bool | int | float):
            out[key.lower()] = (_text(value),)
        else:
            out[key.lower()] = tuple(_text(v) for v in value)
    return out


class AuthzRequest:
    """One request to authorize. Build with `AuthzRequest.build` (which normalizes the context)."""

    __slots__ = (
        "_hash",
        "_key",
        "action",
        "action_lower",
        "caller",
        "context",
        "resource",
        "resource_account",
        "resource_parts",
        "service",
        "unsupplied",
    )

    caller: Caller
    action: str
    resource: str
    context: Mapping[str, tuple[str, ...]]
    resource_account: str
    action_lower: str
    service: str
    resource_parts: tuple[str, ...] | None
    unsupplied: Unsupplied

    def __init__(
        self,
        caller: Caller,
        action: str,
        resource: str,
        context: Mapping[str, tuple[str, ...]],
        resource_account: str = "",
        unsupplied_keys: Unsupplied | Iterable[str] = NONE,
    ) -> None:
        self.caller = caller
        self.action = action
        self.resource = resource
        self.context = context
        self.resource_account = resource_account or arn_account(resource) or caller.account
        self.action_lower = action.lower()
        self.service = self.action_lower.partition(":")[0]
        self.resource_parts = split_arn(resource)
        self.unsupplied = unsupplied_keys if isinstance(unsupplied_keys, Unsupplied) else unsupplied(unsupplied_keys)
        self._key = (
            caller,
            self.action_lower,
            resource,
            self.resource_account,
            tuple(sorted(context.items())),
            self.unsupplied.names,
        )
        self._hash = hash(self._key)

    @classmethod
    def build(
        cls,
        caller: Caller,
        action: str,
        resource: str,
        context: Mapping[str, ContextValue] | None = None,
        resource_account: str = "",
        unsupplied_keys: Iterable[str] = (),
    ) -> AuthzRequest:
        return cls(
            caller, action, resource, normalize_context(context or {}), resource_account, unsupplied(unsupplied_keys)
        )

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return self is other or (isinstance(other, AuthzRequest) and self._key == other._key)

    def __repr__(self) -> str:
        return f"AuthzRequest({self.caller.arn!r}, {self.action!r}, {self.resource!r})"

    @property
    def same_account(self) -> bool:
        return bool(self.caller.account) and self.caller.account == self.resource_account


def principal_context(caller: Caller, *, org_id: str = "") -> dict[str, tuple[str, ...]]:
    """The global condition keys that follow from the caller alone (spec §1.7)."""
    keys: dict[str, tuple[str, ...]] = {}
    if caller.kind is PrincipalKind.SERVICE:
        keys["aws:principalisawsservice"] = ("true",)
        keys["aws:principalservicename"] = (caller.name,)
        return keys
    if caller.kind is PrincipalKind.ANONYMOUS:
        keys["aws:principaltype"] = ("Anonymous",)
        return keys
    keys["aws:principalarn"] = (caller.principal_arn,)
    keys["aws:principalaccount"] = (caller.account,)
    keys["aws:principaltype"] = (caller.kind.value,)
    keys["aws:principalisawsservice"] = ("false",)
    if caller.kind is PrincipalKind.USER:
        keys["aws:username"] = (caller.name,)
    if caller.kind is PrincipalKind.ROOT:
        keys["aws:userid"] = (caller.account,)
    if org_id:
        keys["aws:principalorgid"] = (org_id,)
    return keys
