"""DescribeLogGroups with `logGroupIdentifiers` is decided as AWS decides it: on the account's log groups as a
whole (`arn:aws:logs:R:A:log-group::log-stream:`), never on the groups the request names.

The Service Authorization Reference lists no resource type for logs:DescribeLogGroups
(https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html); AWS's
AccessDenied names `log-group::log-stream:` whatever the filter (tests/catalog/test_logs_describe_log_groups.py).
So a policy on the named group alone does not allow the call, and a Deny on a group's ARN does not refuse it.
Past the decision, lambdaperm does not serve the member (moto lists every group): 501 NotImplemented naming it
(dataplane/unexecuted_parameters.py).
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from .conftest import Endpoint
from .test_iam_sts import error, make_user

REGION = "us-east-1"


def test_describe_log_groups_is_decided_on_the_accounts_groups(server: Endpoint) -> None:
    account = server.client("sts").get_caller_identity()["Account"]
    logs = server.client("logs")
    logs.create_log_group(logGroupName="dlg-app")
    logs.create_log_group(logGroupName="dlg-secret")
    group = f"arn:aws:logs:{REGION}:{account}:log-group:dlg-app:*"
    secret = f"arn:aws:logs:{REGION}:{account}:log-group:dlg-secret"
    key, sec = make_user(
        server,
        "dlg-named",
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "logs:DescribeLogGroups", "Resource": group}],
        },
    )
    named = server.client("logs", key=key, secret=sec)
    with pytest.raises(ClientError) as refused:
        named.describe_log_groups(logGroupIdentifiers=["dlg-app"])
    code, message, status = error(refused)
    assert (code, status) == ("AccessDeniedException", 400)
    assert f"logs:DescribeLogGroups on resource: arn:aws:logs:{REGION}:{account}:log-group::log-stream:" in message
    key, sec = make_user(
        server,
        "dlg-all-but-secret",
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "logs:DescribeLogGroups", "Resource": "*"},
                {"Effect": "Deny", "Action": "logs:*", "Resource": f"{secret}:*"},
            ],
        },
    )
    broad = server.client("logs", key=key, secret=sec)
    with pytest.raises(ClientError) as invalid:  # '*' is outside the member's pattern: validated before any decision
        broad.describe_log_groups(logGroupIdentifiers=[f"{secret}:*"])
    assert error(invalid)[0::2] == ("InvalidParameterException", 400)
    for identifiers in (["dlg-secret"], [secret]):
        with pytest.raises(ClientError) as served:
            broad.describe_log_groups(logGroupIdentifiers=identifiers)
        code, message, status = error(served)
        assert (code, status) == ("NotImplemented", 501), (identifiers, code, message)  # authorized, not served
        assert "logGroupIdentifiers" in message
    assert [g["logGroupName"] for g in broad.describe_log_groups(logGroupNamePrefix="dlg-")["logGroups"]] == [
        "dlg-app",
        "dlg-secret",
    ]
