"""Lambda's errors (spec §3.2/§3.3; botocore lambda model): rest-json with `Type: User` and `message`,
except ResourceNotFoundException whose member is `Message`."""

from __future__ import annotations

from lambdaperm.protocol.errors import ServiceError


def not_found(message: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", message, 404, fields={"Type": "User"})


def function_not_found(arn: str) -> ServiceError:
    return not_found(f"Function not found: {arn}")


def invalid(message: str) -> ServiceError:
    return ServiceError("InvalidParameterValueException", message, 400, fields={"Type": "User"})


def conflict(message: str) -> ServiceError:
    return ServiceError("ResourceConflictException", message, 409, fields={"Type": "User"})


def precondition_failed() -> ServiceError:
    return ServiceError(
        "PreconditionFailedException",
        "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to "
        "retrieve the latest Revision Id", 412, fields={"Type": "User"},
    )


def validation(value: object, member: str, constraint: str) -> ServiceError:
    return ServiceError(
        "ValidationException",
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}",
        400,
    )


def access_denied(message: str) -> ServiceError:
    return ServiceError("AccessDeniedException", message, 403)


def too_large(message: str) -> ServiceError:
    return ServiceError("RequestEntityTooLargeException", message, 413, fields={"Type": "User"})
