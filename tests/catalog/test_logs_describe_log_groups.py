"""DescribeLogGroups is decided on the account's log groups as a whole, whatever groups the request names.

The Service Authorization Reference lists no resource type for logs:DescribeLogGroups ("Grants permission to
return all the log groups that are associated with the AWS account making the request", resource types: none,
https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html), and AWS's
AccessDenied names `arn:aws:logs:R:A:log-group::log-stream:` (observed: FormidableLabs/terraform-aws-serverless#49,
hashicorp/terraform-provider-aws#8804), also when the request filters by `logGroupNamePrefix`, where a policy on
the group's own ARN was refused (observed: maxbanton/cwh#83). Nothing documents `logGroupIdentifiers` (names or
ARNs) changing that resource, so a policy allowing DescribeLogGroups only on the named groups does not allow it:
the same refusal as AWS's, not a wrong deny.
"""

from __future__ import annotations

import pytest

from lambdaperm.catalog import required_actions

ACCOUNT, REGION = "123456789012", "us-east-1"
WHOLE = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group::log-stream:"


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"logGroupNamePrefix": "app"},
        {"logGroupIdentifiers": ["app"]},
        {"logGroupIdentifiers": [f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:app", "other"]},
        {"logGroupIdentifiers": [f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:app:*"]},
    ],
)
def test_describe_log_groups_names_no_group(params: dict[str, object]) -> None:
    needed = required_actions("logs", "DescribeLogGroups", params, account=ACCOUNT, region=REGION)
    assert [(n.action, tuple(n.resources)) for n in needed] == [("logs:DescribeLogGroups", (WHOLE,))]
