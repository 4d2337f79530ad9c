"""Which managed policies an account's users, groups and roles may use: AWS managed ones and the account's own.

AWS rule: customer managed policies are "standalone policies that you manage in your own AWS account. You can then
attach the policies to identities (users, groups, and roles) in your AWS account"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_create.html). Another account's policy ARN is
not attachable — AttachUserPolicy/AttachGroupPolicy/AttachRolePolicy and a permissions boundary answer NoSuchEntity
"Policy <arn> does not exist or is not attachable"
(https://docs.aws.amazon.com/IAM/latest/APIReference/API_AttachRolePolicy.html#API_AttachRolePolicy_Errors).

lambdaperm once found a policy by the account its ARN names, so account A could attach account B's policy; B's
DeletePolicy counts B's own attachments only, so B could delete it and create a namesake that A's identities then
held. `usable` is the one rule: what is not usable is not found when attached, and an attachment or boundary of
another account's policy in state written before grants nothing (a boundary of that kind allows nothing).
"""

from __future__ import annotations

from lambdaperm.protocol.errors import ServiceError

from . import store


def usable(policy_arn: str, account: str) -> bool:
    """Whether identities of `account` may have `policy_arn` attached or as their boundary (a malformed ARN: no)."""
    try:
        owner = store.parse_policy_arn(policy_arn)[0]
    except ServiceError:  # InvalidInput: not a managed policy's ARN
        return False
    return owner in ("aws", account)
