"""An IAM ARN parameter naming no resource of the action's type is IAM's InvalidInput, before any decision.

AWS: IAM rejects "an invalid or out-of-range value … supplied for an input parameter" as 400 InvalidInput
(https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetPolicy.html), worded "ARN <arn> is not valid." as the IAM
service answers it (`services/iam/store.parse_policy_arn`). The catalog cannot read such an ARN (a `PolicyArn` with a
final newline, a role's ARN given as a policy's) and the gateway used to deny it as an operation it "does not know" —
even for the account root. Refusing it keeps the call unexecuted (fail closed) with the service's own answer
(parameter confusion review round 17).
"""

from __future__ import annotations

from lambdaperm.catalog import UnresolvedResource
from lambdaperm.protocol.errors import ServiceError
from lambdaperm.services.iam.errors import invalid_input


def refusal(service: str, err: UnresolvedResource) -> ServiceError | None:
    """IAM's InvalidInput for an ARN value the catalog could not read, None for any other service or reason."""
    if service != "iam" or err.unreadable is None:
        return None
    return invalid_input(f"ARN {err.unreadable} is not valid.")
