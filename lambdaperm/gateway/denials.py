"""How an authorization denial looks on the wire, per service (spec §2.2): the code and status each
protocol uses, with the engine's AWS-worded message."""

from __future__ import annotations

from lambdaperm.protocol.errors import ServiceError

# service -> (status, code); the default by protocol below
_BY_SERVICE = {
    "lambda": (403, "AccessDeniedException"),
    "accessanalyzer": (403, "AccessDeniedException"),
    "dynamodb": (400, "AccessDeniedException"),
    "logs": (400, "AccessDeniedException"),
    "cloudtrail": (400, "AccessDeniedException"),
    "sqs": (403, "AccessDenied"),
    "ec2": (403, "UnauthorizedOperation"),
    "s3": (403, "AccessDenied"),
    "sns": (403, "AuthorizationError"),
}
_BY_PROTOCOL = {"query": (403, "AccessDenied"), "json": (400, "AccessDeniedException"),
                "rest-json": (403, "AccessDeniedException"), "rest-xml": (403, "AccessDenied"),
                "ec2": (403, "UnauthorizedOperation")}


def access_denied(service: str, protocol: str, message: str) -> ServiceError:
    status, code = _BY_SERVICE.get(service) or _BY_PROTOCOL.get(protocol, (403, "AccessDenied"))
    if code == "UnauthorizedOperation":
        message = f"You are not authorized to perform this operation. {message}"
    if code == "AuthorizationError":
        # SNS writes the action with its prefix in capitals: "… is not authorized to perform: SNS:Publish on
        # resource: …" (spec §12.5).
        message = message.replace("perform: sns:", "perform: SNS:")
    return ServiceError(code, message, status)


def unmapped(service: str, protocol: str, operation: str) -> ServiceError:
    return access_denied(
        service, protocol,
        f"lambdaperm does not know which IAM action authorizes {service}:{operation}, so the call is denied "
        "(fail closed). See docs/coverage.md for the operations that are mapped.",
    )
