"""Typed errors of the catalog layer. Both mean "deny": the gateway must never authorize around them."""

from __future__ import annotations


class UnmappedOperation(Exception):
    """The catalog does not know which IAM action(s) this operation needs, so the request is denied.

    Fail closed (design.md): an operation the catalog cannot map is never allowed by default.
    """

    def __init__(self, service: str, operation: str, reason: str = "") -> None:
        self.service = service
        self.operation = operation
        self.reason = reason or "the operation is not in the catalog"
        super().__init__(f"{service}:{operation}: {self.reason}")


class UnresolvedResource(UnmappedOperation):
    """The operation is mapped, but the request does not name the resource the action is authorized on.

    `missing` lists the request parameters that would name it. Some of them are implicit in AWS: IAM
    operations whose `UserName` is optional act on the calling user, and `GetAccessKeyLastUsed` acts on
    the key's owner (`implicit` says which). A caller that knows the value (the gateway does) may add it
    to the parameters and ask again; otherwise the request is denied.
    """

    def __init__(self, service: str, operation: str, missing: tuple[str, ...], reason: str,
                 implicit: dict[str, str] | None = None, unreadable: str | None = None) -> None:
        self.missing = missing
        #: the ARN parameter's value when it is present but no ARN of a resource type the action is authorized on
        #: (the gateway answers the service's invalid-input error for it; parameter confusion round 17)
        self.unreadable = unreadable
        #: parameter -> what AWS uses when it is left out: "caller" (the calling IAM user's name) or
        #: "access-key-owner" (the user who owns the request's AccessKeyId).
        self.implicit = implicit or {}
        super().__init__(service, operation, reason)
