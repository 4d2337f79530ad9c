"""Lambda actions that only the function's own account can perform, whatever the function policy grants.

A function policy can grant another account "most API actions that operate on an existing function"
(https://docs.aws.amazon.com/lambda/latest/dg/permissions-function-cross-account.html). Not all of them: testing
reported in https://github.com/awsdocs/aws-lambda-developer-guide/issues/139 found AddPermission, RemovePermission
(the IAM action of the API's DeletePermission) and UpdateFunctionConfiguration refused to another account even
when the function policy allows them, and the guide's list of cross-account actions was amended after it.
lambdaperm takes that stricter reading (docs/fidelity.md): a caller of another account than the function's gets
the AccessDeniedException Lambda gives any cross-account call that no resource-based policy allows — AWS's bare
sentence, as the authorizer words a cross-account denial (policy/decision.py) — before anything is acted on.

Lambda operations lambdaperm does not serve (PutFunctionConcurrency, PutProvisionedConcurrencyConfig,
PutFunctionEventInvokeConfig, ...) are not listed: they are refused to everyone. The function URL operations
are not listed: no evidence says Lambda refuses them across accounts.
"""

from __future__ import annotations

from ..context import Handler, Output, Params, RequestContext
from .errors import access_denied
from .names import parse_function

# operation -> the IAM action AWS names in its denial
OWNER_ONLY = {
    "AddPermission": "lambda:AddPermission",
    "RemovePermission": "lambda:RemovePermission",
    "UpdateFunctionConfiguration": "lambda:UpdateFunctionConfiguration",
}


def owner_only(operation: str, handler: Handler) -> Handler:
    """`handler`, refused to a caller of another account than the function's (the account its ARN names)."""
    action = OWNER_ONLY[operation]

    def guarded(ctx: RequestContext, p: Params) -> Output:
        ref = parse_function(p.get("FunctionName"), p.get("Qualifier"), account=ctx.account, region=ctx.region)
        if ref.account != ctx.account:
            raise access_denied(
                f"User: {ctx.identity.caller.arn} is not authorized to perform: {action} on resource: "
                f"{ref.addressed_arn}"
            )
        return handler(ctx, p)

    return guarded
