"""EC2 security groups named by ID, one way only.

- `GroupId` (and every list of security group IDs) takes IDs: `sg-` and 8 or 17 hexadecimal digits. AWS
  answers anything else with 400 `InvalidGroupId.Malformed` 'Invalid id: "<value>" (expecting "sg-...")', and
  a group *name* may not have the form `sg-*`, so a name is never taken for an ID. moto resolves a GroupId
  by ID and then by name: `GroupId=victim-sg` would be authorized on `security-group/victim-sg` (which a
  Deny on the victim's ARN does not match) and act on the victim.
  https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
  https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html ("Constraints: ...
  Cannot start with sg-")
- `GroupId` beside `GroupName` (AuthorizeSecurityGroupIngress, RevokeSecurityGroupIngress,
  DeleteSecurityGroup, UpdateSecurityGroupRuleDescriptions*): the API takes "either the security group name
  or the security group ID"; the call is authorized on the ID while moto reads the name first. Which one AWS
  reads is not documented, so the pair is refused (400 InvalidParameterCombination; stricter than AWS,
  docs/fidelity.md).
  https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteSecurityGroup.html
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from lambdaperm.protocol.errors import ServiceError

_GROUP_ID = re.compile(r"^sg-(?:[0-9a-f]{8}|[0-9a-f]{17})$")
# input members that hold security group IDs (a string or a list of strings), in the EC2 operations served
_ID_MEMBERS = ("GroupId", "GroupIds", "SecurityGroupIds", "Groups", "AddSecurityGroupIds", "RemoveSecurityGroupIds")
# operations that take a security group by GroupId or by GroupName
_ID_OR_NAME = frozenset(
    {
        "AuthorizeSecurityGroupIngress",
        "RevokeSecurityGroupIngress",
        "DeleteSecurityGroup",
        "UpdateSecurityGroupRuleDescriptionsIngress",
        "UpdateSecurityGroupRuleDescriptionsEgress",
    }
)


def check_groups(service: str, operation: str, params: Mapping[str, Any]) -> None:
    """Raises EC2's error for a security group ID that is not one, or for GroupId beside GroupName."""
    if service != "ec2":
        return
    for member in _ID_MEMBERS:
        value = params.get(member)
        for group_id in [value] if isinstance(value, str) else value if isinstance(value, list) else []:
            if not isinstance(group_id, str) or not _GROUP_ID.fullmatch(group_id):
                raise ServiceError("InvalidGroupId.Malformed", f'Invalid id: "{group_id}" (expecting "sg-...")', 400)
    if operation in _ID_OR_NAME and params.get("GroupId") is not None and params.get("GroupName") is not None:
        raise ServiceError(
            "InvalidParameterCombination",
            f"The parameter GroupName cannot be used with the parameter GroupId in {operation}.",
            400,
        )
