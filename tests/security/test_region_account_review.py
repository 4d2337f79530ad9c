"""Attack class: region and account confusion (review round 1).

A call is authorized in one region or account and must act there and nowhere else. Each test plays the attack
against a real `lambdaperm serve` with real boto3 and asserts AWS's outcome.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint


def user(server: Endpoint, account: str, name: str, policy: dict[str, Any]) -> tuple[str, str]:
    iam = server.client("iam", key=account)
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def test_iam_is_a_us_east_1_call_whatever_region_the_client_signs(server: Endpoint) -> None:
    """Attack: a guardrail denies everything outside eu-west-1 (`aws:RequestedRegion`); the user signs an IAM
    call for eu-west-1 and it passed as an eu-west-1 call.

    AWS: IAM has one global endpoint in us-east-1, "IAM calls are always made to the us-east-1 Region", so
    `aws:RequestedRegion` is us-east-1 for every IAM call (and IAM refuses another credential scope with
    `SignatureDoesNotMatch` "Credential should be scoped to a valid region"); the trail records IAM events in
    us-east-1. lambdaperm takes an IAM call as us-east-1's whatever the scope (docs/fidelity.md).
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-requestedregion
    """
    account = "444400000001"
    key, secret = user(
        server,
        account,
        "eu-only",
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "iam:*", "Resource": "*"},
                {
                    "Effect": "Deny",
                    "Action": "*",
                    "Resource": "*",
                    "Condition": {"StringNotEquals": {"aws:RequestedRegion": "eu-west-1"}},
                },
            ],
        },
    )
    with pytest.raises(ClientError) as err:
        server.client("iam", key=key, secret=secret, region="eu-west-1").list_users()
    assert err.value.response["Error"]["Code"] == "AccessDenied"
    assert "explicit deny" in err.value.response["Error"]["Message"]
    # positive control: a us-east-1-only allow lets the same eu-west-1-signed call through, as at AWS
    key2, secret2 = user(
        server,
        account,
        "us-east-only",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "iam:ListUsers",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}},
                }
            ],
        },
    )
    names = {
        u["UserName"] for u in server.client("iam", key=key2, secret=secret2, region="eu-west-1").list_users()["Users"]
    }
    assert {"eu-only", "us-east-only"} <= names
    events = server.client("cloudtrail", key=account, region="us-east-1").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "ListUsers"}]
    )["Events"]
    regions = {json.loads(e["CloudTrailEvent"])["awsRegion"] for e in events}
    assert regions == {"us-east-1"}


def _log_groups(server: Endpoint, account: str) -> None:
    for region in ("us-east-1", "eu-west-1"):
        logs = server.client("logs", key=account, region=region)
        logs.create_log_group(logGroupName="app")
        logs.create_log_stream(logGroupName="app", logStreamName=f"stream-{region}")


def test_a_log_group_arn_of_another_region_never_acts_in_the_signed_region(server: Endpoint) -> None:
    """Attack: a user allowed Logs only on us-east-1's log groups signs DescribeLogStreams for eu-west-1 with
    `logGroupIdentifier` = the us-east-1 ARN: authorized on the us-east-1 group, the backend took the name
    from the ARN and listed eu-west-1's group of the same name.

    AWS: a regional endpoint serves only its region's log groups; `logGroupIdentifier` as an ARN names the
    group (cross-account for monitoring accounts), never another region's.
    https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DescribeLogStreams.html
    """
    account = "444400000002"
    _log_groups(server, account)
    key, secret = user(
        server,
        account,
        "us-logs",
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "logs:*", "Resource": "arn:aws:logs:us-east-1:*:*"}],
        },
    )
    logs_eu = server.client("logs", key=key, secret=secret, region="eu-west-1")
    with pytest.raises(ClientError) as err:
        logs_eu.describe_log_streams(logGroupIdentifier=f"arn:aws:logs:us-east-1:{account}:log-group:app")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    # positive control: the same ARN signed for its own region works
    logs_us = server.client("logs", key=key, secret=secret, region="us-east-1")
    streams = logs_us.describe_log_streams(logGroupIdentifier=f"arn:aws:logs:us-east-1:{account}:log-group:app")
    assert [s["logStreamName"] for s in streams["logStreams"]] == ["stream-us-east-1"]


def test_a_resource_arn_of_another_region_is_not_tagged_in_the_signed_region(server: Endpoint) -> None:
    """Attack: TagResource signed for us-east-1 with an eu-west-1 log group ARN was authorized on the
    eu-west-1 ARN and stored the tag in us-east-1's backend under that ARN (ListTagsForResource signed for
    us-east-1 then showed it, eu-west-1's group had none).

    AWS: a regional endpoint acts on its region's resources only.
    https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_TagResource.html
    """
    account = "444400000003"
    _log_groups(server, account)
    eu_arn = f"arn:aws:logs:eu-west-1:{account}:log-group:app"
    logs_us = server.client("logs", key=account, region="us-east-1")
    with pytest.raises(ClientError) as err:
        logs_us.tag_resource(resourceArn=eu_arn, tags={"owner": "attacker"})
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    logs_eu = server.client("logs", key=account, region="eu-west-1")
    logs_eu.tag_resource(resourceArn=eu_arn, tags={"owner": "team"})  # positive control
    assert logs_eu.list_tags_for_resource(resourceArn=eu_arn)["tags"] == {"owner": "team"}


def test_an_sns_topic_arn_of_another_region_is_refused(server: Endpoint) -> None:
    """Attack: a topic ARN of another region than the signed one (Publish, DeleteTopic). Nothing acted
    before (the backend looks topics up by their full ARN), but DeleteTopic answered success.

    AWS: SNS serves a topic only at its region's endpoint; another region's ARN is `InvalidParameter`
    ("Invalid parameter: TopicArn").
    https://docs.aws.amazon.com/sns/latest/api/CommonErrors.html
    """
    account = "444400000004"
    topic = server.client("sns", key=account, region="eu-west-1").create_topic(Name="t")["TopicArn"]
    sns_us = server.client("sns", key=account, region="us-west-2")
    for call in (lambda: sns_us.publish(TopicArn=topic, Message="x"), lambda: sns_us.delete_topic(TopicArn=topic)):
        with pytest.raises(ClientError) as err:
            call()
        assert err.value.response["Error"]["Code"] == "InvalidParameter"
    topics = server.client("sns", key=account, region="eu-west-1").list_topics()["Topics"]
    assert [t["TopicArn"] for t in topics] == [topic]
