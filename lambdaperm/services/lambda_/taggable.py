"""The function a tagging call (TagResource, UntagResource, ListTags) names: a full, unqualified function ARN.

AWS: `Resource` is "The resource's Amazon Resource Name (ARN)" (the model's `TaggableResource` pattern:
`arn:(aws[a-zA-Z-]*):lambda:<region>:<12 digits>:function:<name>(:<qualifier>)?|…`), and "Lambda does not
support adding tags to function aliases or versions"
(https://docs.aws.amazon.com/lambda/latest/api/API_TagResource.html,
https://docs.aws.amazon.com/lambda/latest/api/API_ListTags.html). A bare name or a partial ARN
(`123456789012:function:f`) is not one: the authorizer, which reads ARNs from this parameter, decided such a call
on `*` in the caller's account, so a Deny on the function's ARN, and another account's function policy, were never
asked (region/account review round 4). A qualified ARN was decided on `…:f:1` while the tags are the function's.
"""

from __future__ import annotations

import re

from .errors import invalid, validation
from .names import FunctionRef, parse_function

# the botocore model's TaggableResource pattern, function branch (other branches name resources not served here)
_FUNCTION_ARN = re.compile(
    r"^arn:(aws[a-zA-Z-]*):lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:"
    r"function:[a-zA-Z0-9-_]+(:(\$LATEST|[a-zA-Z0-9-_]+))?$", re.ASCII
)
PATTERN = (
    r"arn:(aws[a-zA-Z-]*):lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:"
    r"(function:[a-zA-Z0-9-_]+(:(\$LATEST|[a-zA-Z0-9-_]+))?|code-signing-config:csc-[a-z0-9]{17}|"
    r"event-source-mapping:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|"
    r"capacity-provider:[a-zA-Z0-9-_]+)"
)


def taggable_function(raw: object, *, account: str, region: str) -> FunctionRef:
    """The unqualified function `raw` names, or ValidationException (not a function ARN) /
    InvalidParameterValueException (a version or alias ARN; AWS's exact wording is not documented)."""
    if not isinstance(raw, str) or len(raw) > 256 or not _FUNCTION_ARN.match(raw):
        raise validation(raw, "resource", f"Member must satisfy regular expression pattern: {PATTERN}")
    ref = parse_function(raw, None, account=account, region=region, member="resource")
    if ref.qualifier is not None:
        raise invalid("Tags on function aliases and versions are not supported. Please specify a function ARN.")
    return ref
