"""The input constraints AWS validates before anything else: a request's members against its operation's
model (required members, string/list/map lengths, number ranges, string patterns), answered with the
service's validation error in its protocol, before authentication's outcome is used for a decision.

AWS's services reject a request that does not satisfy its input shape with "N validation error(s) detected:
Value 'x' at 'member' failed to satisfy constraint: Member must …" (the member path in lower camel case, list
items as `member.N`) — IAM/STS `ValidationError`, Lambda and DynamoDB `ValidationException`, CloudWatch Logs
`InvalidParameterException`. Without this, a call missing its resource (CreateRole without RoleName,
PutLogEvents with `{}`) reached the authorizer, which cannot name the resource and denied it as unmapped.
https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html
https://docs.aws.amazon.com/lambda/latest/api/API_GetFunction.html#API_GetFunction_RequestSyntax

Only the services listed in `_CODE` are checked (the others answer constraint failures their own way:
EC2 `MissingParameter`, S3 no model constraints, SNS/SQS their own codes). A pattern Python's `re` cannot
compile (Java-only syntax such as `\\p{…}`) is not checked. A pattern is read as Java reads it: `\\w`, `\\d`
and `\\s` are ASCII classes (`re.ASCII`); Python's Unicode classes let `\\u212a` (KELVIN SIGN) into an IAM name,
which IAM's case-insensitive store then filed under `k…` (parameter confusion review round 14).
STS's role ARNs have one more rule: a value that is not an ARN at all is "Request ARN is invalid" (what STS answers
for AssumeRoleWithSAML with another ARN).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache

from botocore.model import Shape  # type: ignore[import-untyped]

from lambdaperm.protocol import dynamodb_transact_items
from lambdaperm.protocol.errors import ServiceError
from lambdaperm.protocol.operation import Operation

# the validation error of each checked service
_CODE: Mapping[str, str] = {
    "iam": "ValidationError",
    "sts": "ValidationError",
    "lambda": "ValidationException",
    "dynamodb": "ValidationException",
    "logs": "InvalidParameterException",
}
_ROLE_ARN_MEMBERS: Mapping[str, tuple[str, ...]] = {
    "AssumeRole": ("RoleArn",),
    "AssumeRoleWithWebIdentity": ("RoleArn",),
    "AssumeRoleWithSAML": ("RoleArn", "PrincipalArn"),
}
_ARN = re.compile(r"arn:[^:]+:[^:]*:[^:]*:[^:]*:.+", re.S)


def check_input(op: Operation, params: Mapping[str, object]) -> None:
    """Raise the service's validation error when `params` break the constraints of `op`'s input shape."""
    code = _CODE.get(op.service_name)
    if code is None:
        return
    if op.service_name == "sts":
        for member in _ROLE_ARN_MEMBERS.get(op.name, ()):
            value = params.get(member)
            if isinstance(value, str) and not _ARN.fullmatch(value):
                raise ServiceError(code, "Request ARN is invalid", 400)
    shape = op.model.input_shape
    if shape is None:
        return
    problems: list[str] = []
    _structure(shape, params, "", problems)
    if problems:
        count = f"{len(problems)} validation error{'s' if len(problems) > 1 else ''} detected: "
        raise ServiceError(code, count + "; ".join(problems), 400)
    if (op.service_name, op.name) == ("dynamodb", "TransactWriteItems"):  # one operation per item (fuzz campaign)
        dynamodb_transact_items.check(params)


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _structure(shape: Shape, value: object, path: str, problems: list[str]) -> None:
    if not isinstance(value, Mapping):
        return
    for name, member in shape.members.items():
        where = f"{path}.{_camel(name)}" if path else _camel(name)
        if name not in value or value[name] is None:
            if name in shape.required_members:
                problems.append(f"Value null at '{where}' failed to satisfy constraint: Member must not be null")
            continue
        _value(member, value[name], where, problems)


def _value(shape: Shape, value: object, where: str, problems: list[str]) -> None:
    kind = shape.type_name
    if kind == "structure":
        _structure(shape, value, where, problems)
        return
    problems.extend(f"{_at(shape, value, where)} failed to satisfy constraint: {v}" for v in _violations(shape, value))
    if kind == "list" and isinstance(value, list):
        for i, item in enumerate(value, 1):
            _value(shape.member, item, f"{where}.{i}.member", problems)
    if kind == "map" and isinstance(value, dict):  # AWS: "Map keys must satisfy constraint: [Member must …]"
        for part, items in (("keys", value.keys()), ("value", value.values())):
            member = shape.key if part == "keys" else shape.value
            if member.type_name == "structure":
                for key, item in value.items():
                    _value(member, item, f"{where}.{key}.member", problems)
                continue
            found = dict.fromkeys(v for item in items for v in _violations(member, item))
            problems.extend(
                f"Value at '{where}' failed to satisfy constraint: Map {part} must satisfy constraint: [{v}]"
                for v in found
            )


def _violations(shape: Shape, value: object) -> list[str]:
    """The constraints of a list/map/scalar shape `value` breaks (its own, not its members')."""
    kind = shape.type_name
    found: list[str] = []
    if kind in ("string", "list", "map", "blob") and isinstance(value, str | bytes | list | dict):
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        if isinstance(low, int) and len(value) < low:
            found.append(f"Member must have length greater than or equal to {low}")
        elif isinstance(high, int) and len(value) > high:
            found.append(f"Member must have length less than or equal to {high}")
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    if kind in ("integer", "long", "float", "double") and numeric:
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        if isinstance(low, int | float) and value < low:  # type: ignore[operator]
            found.append(f"Member must have value greater than or equal to {low}")
        elif isinstance(high, int | float) and value > high:  # type: ignore[operator]
            found.append(f"Member must have value less than or equal to {high}")
    if kind == "string" and isinstance(value, str):
        pattern = shape.metadata.get("pattern")
        compiled = _compiled(pattern) if isinstance(pattern, str) else None
        if compiled is not None and not compiled.fullmatch(value):
            found.append(f"Member must satisfy regular expression pattern: {pattern}")
    return found


def _at(shape: Shape, value: object, where: str) -> str:
    """`Value 'x' at 'member'`; a sensitive member's or a blob's value is not echoed (`Value at 'member'`)."""
    if shape.metadata.get("sensitive") or shape.type_name == "blob" or not isinstance(value, str | int | float):
        return f"Value at '{where}'"
    return f"Value '{value}' at '{where}'"


@cache
def _compiled(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern, re.S | re.ASCII)  # Java's \w, \d, \s: ASCII (review round 14)
    except re.error:
        return None
