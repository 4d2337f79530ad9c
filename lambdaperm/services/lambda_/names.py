"""Function names as the API takes them: a name, a partial ARN (`123456789012:function:f`) or a full
ARN, optionally with `:qualifier`; plus the `Qualifier` parameter (spec §3.2)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import invalid, validation

_FUNCTION = re.compile(
    r"^(?:arn:(?P<partition>aws[a-zA-Z-]*)?:lambda:)?(?:(?P<region>[a-z]{2}(?:-gov)?-[a-z]+-\d{1}):)?"
    r"(?:(?P<account>\d{12}):)?(?:function:)?(?P<name>[a-zA-Z0-9-_.]+)(?::(?P<qualifier>\$LATEST|[a-zA-Z0-9-_]+))?$",
    re.ASCII,
)
_QUALIFIER = re.compile(r"^(\$LATEST|[a-zA-Z0-9-_$]+)$")
PATTERN = ("(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?"
           "([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?")


@dataclass(frozen=True, slots=True)
class FunctionRef:
    account: str
    region: str
    name: str
    qualifier: str | None  # None: unqualified

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{self.name}"

    @property
    def addressed_arn(self) -> str:
        return self.arn + (f":{self.qualifier}" if self.qualifier else "")


def named_account(raw: object) -> str | None:
    """The account a (partial) function ARN names, None for a bare name or an unreadable one."""
    m = _FUNCTION.match(raw) if isinstance(raw, str) else None
    return m.group("account") if m else None


def named_region(raw: object) -> str | None:
    """The region a function ARN names, None for a name or partial ARN without one, or an unreadable one."""
    m = _FUNCTION.match(raw) if isinstance(raw, str) else None
    return m.group("region") if m else None


def parse_function(raw: object, qualifier: object, *, account: str, region: str,
                   member: str = "functionName") -> FunctionRef:
    if not isinstance(raw, str) or not raw or len(raw) > 170:
        raise validation(raw, member, "Member must have length less than or equal to 170")
    m = _FUNCTION.match(raw)
    if m is None or len(m.group("name")) > 64:
        raise validation(raw, member, f"Member must satisfy regular expression pattern: {PATTERN}")
    if m.group("partition") not in (None, "", "aws"):
        # every ARN this endpoint serves is in the `aws` partition; the authorizer decided on the ARN as written,
        # so another partition would run `arn:aws:…` past a Deny on it (region/account review round 3)
        raise invalid(f"Function partition ({m.group('partition')}) does not match the partition of the request (aws).")
    if m.group("region") and m.group("region") != region:
        raise invalid(f"Function region ({m.group('region')}) does not match the region of the request ({region}).")
    derived = m.group("qualifier")
    if qualifier is not None:
        if not isinstance(qualifier, str) or not _QUALIFIER.match(qualifier) or len(qualifier) > 128:
            raise validation(qualifier, "qualifier",
                             "Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)")
        if derived is not None and derived != qualifier:
            raise invalid("The derived qualifier from the function name does not match the specified qualifier.")
        derived = qualifier
    return FunctionRef(m.group("account") or account, region, m.group("name"), derived)
