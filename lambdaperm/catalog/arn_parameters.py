"""A value of an ARN parameter that is not an ARN, where no other reading names a resource, is refused.

`bindings.ARN_PARAMS[service]` lists the parameters whose value is a resource's ARN (some take a name too,
bound by the rules' own sources). When an action's resource types are all optional and nothing the
request gave resolved to one of them, the catalog would authorize the action on `*`; if an ARN parameter
then holds something that is not an ARN (Lambda TagResource with `Resource=secret`, or `123456789012:
function:secret`), a Deny on the named resource's ARN would not apply to a call the service may still
read as that resource (review round 4, region and account: the handler resolved a bare name). AWS
validates such a member against the ARN pattern of its shape and answers its validation error; lambdaperm
refuses the call the same way, before any decision (fail closed).
https://docs.aws.amazon.com/lambda/latest/api/API_TagResource.html#API_TagResource_RequestSyntax
"""

from __future__ import annotations

from collections.abc import Mapping

from . import bindings
from .invalid import InvalidRequest
from .params import strings

# the validation error code of each service's protocol (JSON services: ValidationException; query: theirs)
_CODE = {"sns": "InvalidParameter", "iam": "ValidationError", "sts": "ValidationError", "sqs": "InvalidParameterValue"}


def refuse_non_arns(service: str, operation: str, scopes: tuple[Mapping[str, object], ...]) -> None:
    """Raise InvalidRequest when an ARN parameter of `service` in `scopes` holds a value that is not an ARN."""
    for path in bindings.ARN_PARAMS.get(service, ()):
        for scope in scopes:
            for value in strings(scope, path):
                if not value.startswith("arn:"):
                    member = path.removesuffix("[]")
                    raise InvalidRequest(
                        service,
                        operation,
                        _CODE.get(service, "ValidationException"),
                        f"1 validation error detected: Value '{value}' at '{member[:1].lower() + member[1:]}' "
                        "failed to satisfy constraint: Member must be an ARN",
                    )
