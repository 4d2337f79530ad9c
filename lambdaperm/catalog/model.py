"""What an operation needs: the IAM action, the resources it is authorized on, the request's context keys."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RequiredAction:
    """One IAM action an API operation needs.

    `resources`: every resource ARN the action is authorized on (all of them must be allowed; `("*",)`
    for actions without resource-level permissions). IAM ARNs carry no path unless the request gives
    one (Create* with `Path`); the gateway fills the path in. `context`: the request-specific condition
    keys (lower-cased) with their values, e.g. `{"aws:tagkeys": ("env",), "iam:passedtoservice":
    ("lambda.amazonaws.com",)}`; global keys (aws:SourceIp, aws:PrincipalArn...) are not included.
    """

    action: str
    resources: tuple[str, ...]
    context: dict[str, tuple[str, ...]] = field(default_factory=dict)
