"""EC2 instances: RunInstances is decided as AWS decides it, then refused 501 NotImplemented.

lambdaperm serves EC2 for the VPC networking its functions use (catalog/services.EC2_OPERATIONS). RunInstances is
mapped so that a caller without the grant is denied as AWS denies it (UnauthorizedOperation), but it is not
carried out: the embedded backend would start no instance anyway, yet it would record one, with an instance
profile whose role nothing assumes and user data nothing runs — state that looks like AWS's and is not. An
allowed call is answered 501 NotImplemented, after authorization and before the backend sees it (fail closed).
AWS's rule for the call: https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_RunInstances.html.
"""

from __future__ import annotations

from lambdaperm.protocol.errors import ServiceError

REFUSED: frozenset[tuple[str, str]] = frozenset({("ec2", "RunInstances")})


def check(service: str, operation: str) -> None:
    """501 NotImplemented for an operation lambdaperm decides but does not carry out."""
    if (service, operation) in REFUSED:
        raise ServiceError("NotImplemented", f"lambdaperm decides {operation} but does not run instances", 501)
