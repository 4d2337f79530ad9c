"""Persistence, review round 4: state that outlives what it belongs to, attacked against a real `lambdaperm serve`
with real boto3.

Rounds 1-3 bound sessions and policies to unique ids, invokes to a function's incarnation, managed session policies
to their current version, and bucket names to their owner across a restart. This round looks at the tags the
embedded data plane keeps *beside* a resource (moto's per-backend `TaggingService`, keyed by an ARN that a later
resource can have again) and at what a deleted topic, a deleted function or a restart leaves behind.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint, stop_server
from tests.security.iam_users import clients_of, user_keys

REGION = "us-east-1"


def user(server: Endpoint, account: str, name: str, *statements: dict[str, Any]) -> Any:
    """A user of `account` with exactly these policy statements, as a boto3 client factory."""
    return clients_of(server, user_keys(server, account, name, *statements))


def object_tags(s3: Any, bucket: str, key: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]}


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return code_of(exc.value)


def code_of(err: ClientError) -> str:
    return str(err.response["Error"]["Code"])


SHARED_READER = {
    "Effect": "Allow",
    "Action": "s3:GetObject",
    "Resource": "*",
    "Condition": {"StringEquals": {"s3:ExistingObjectTag/share": "yes"}},
}


# ---- S3: an object's tags die with it ---------------------------------------------------------------------------


def test_an_object_copied_onto_a_deleted_key_does_not_inherit_its_tags(server: Endpoint) -> None:
    """Attack: in an unversioned bucket `doc` is tagged share=yes, and a reader may GetObject any object whose
    `s3:ExistingObjectTag/share` is yes. The owner deletes `doc`, then copies a private, untagged object onto the
    key `doc`. The embedded backend keeps object tags beside the object, keyed by bucket/key/version ("null" for
    every object of an unversioned bucket), never dropped by DeleteObject, and CopyObject (COPY directive) only
    *adds* the source's tags: the new `doc` carried the deleted object's share=yes and the reader read it.

    AWS: DeleteObject removes the object (its tags are part of it); CopyObject with the default
    `x-amz-tagging-directive: COPY` gives the new object the source's tags
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html, "x-amz-tagging-directive ... COPY
    (default) – Copies the tags of the source object"); `s3:ExistingObjectTag/<key>` is the tag the object has
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/tagging-and-policies.html).
    """
    account = "777840000001"
    s3 = server.client("s3", key=account)
    s3.create_bucket(Bucket="r4-docs")
    s3.put_object(Bucket="r4-docs", Key="doc", Body=b"public notice", Tagging="share=yes")
    s3.put_object(Bucket="r4-docs", Key="private/payroll", Body=b"salaries")
    reader = user(server, account, "reader", SHARED_READER)
    assert reader("s3").get_object(Bucket="r4-docs", Key="doc")["Body"].read() == b"public notice"  # control
    s3.delete_object(Bucket="r4-docs", Key="doc")
    s3.copy_object(Bucket="r4-docs", Key="doc", CopySource={"Bucket": "r4-docs", "Key": "private/payroll"})
    assert object_tags(s3, "r4-docs", "doc") == {}
    with pytest.raises(ClientError) as denied:
        reader("s3").get_object(Bucket="r4-docs", Key="doc")
    assert code(denied) == "AccessDenied"


def test_an_object_copied_over_a_tagged_one_carries_the_sources_tags_only(server: Endpoint) -> None:
    """Attack: as above without the delete — `doc` (share=yes) is overwritten by CopyObject of an object tagged
    dept=hr. The new `doc` carried {share: yes, dept: hr}: the overwritten object's tag survived it.

    AWS: the copy is a new object whose tags are the source's under the COPY directive
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html); an overwritten object's tags go with it.
    """
    account = "777840000002"
    s3 = server.client("s3", key=account)
    s3.create_bucket(Bucket="r4-docs-2")
    s3.put_object(Bucket="r4-docs-2", Key="doc", Body=b"public notice", Tagging="share=yes")
    s3.put_object(Bucket="r4-docs-2", Key="hr/review", Body=b"performance review", Tagging="dept=hr")
    reader = user(server, account, "reader", SHARED_READER)
    s3.copy_object(Bucket="r4-docs-2", Key="doc", CopySource={"Bucket": "r4-docs-2", "Key": "hr/review"})
    assert object_tags(s3, "r4-docs-2", "doc") == {"dept": "hr"}
    with pytest.raises(ClientError) as denied:
        reader("s3").get_object(Bucket="r4-docs-2", Key="doc")
    assert code(denied) == "AccessDenied"


def test_a_copy_with_replaced_tags_and_a_put_take_only_their_own_tags(server: Endpoint) -> None:
    """Held (the other ways to write a key over a tagged one): PutObject and CopyObject with
    `x-amz-tagging-directive: REPLACE` give the new object exactly the tags of the request."""
    account = "777840000003"
    s3 = server.client("s3", key=account)
    s3.create_bucket(Bucket="r4-docs-3")
    s3.put_object(Bucket="r4-docs-3", Key="src", Body=b"x", Tagging="dept=hr")
    s3.put_object(Bucket="r4-docs-3", Key="doc", Body=b"a", Tagging="share=yes")
    s3.put_object(Bucket="r4-docs-3", Key="doc", Body=b"b")
    assert object_tags(s3, "r4-docs-3", "doc") == {}
    s3.put_object(Bucket="r4-docs-3", Key="doc", Body=b"a", Tagging="share=yes")
    s3.copy_object(
        Bucket="r4-docs-3",
        Key="doc",
        CopySource={"Bucket": "r4-docs-3", "Key": "src"},
        TaggingDirective="REPLACE",
        Tagging="k=v",
    )
    assert object_tags(s3, "r4-docs-3", "doc") == {"k": "v"}
    # an in-place copy (new metadata) keeps the object's own tags: the source is the object itself
    s3.copy_object(
        Bucket="r4-docs-3",
        Key="doc",
        CopySource={"Bucket": "r4-docs-3", "Key": "doc"},
        MetadataDirective="REPLACE",
        Metadata={"m": "1"},
    )
    assert object_tags(s3, "r4-docs-3", "doc") == {"k": "v"}


# ---- CloudWatch Logs: a log group's tags die with it ------------------------------------------------------------


def test_a_log_group_created_again_does_not_inherit_the_deleted_groups_tags(server: Endpoint) -> None:
    """Attack: the log group `/app/payments` is tagged team=ops; the ops user may read any log group whose
    `aws:ResourceTag/team` is ops. The group is deleted, and the account's administrator creates a new
    `/app/payments` without tags and writes to it. The embedded backend keeps log group tags in a per-account
    table keyed by the group's ARN that DeleteLogGroup does not clear, so the new group carried team=ops and the
    ops user read its events.

    AWS: DeleteLogGroup "permanently deletes the specified log group" and everything in it
    (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DeleteLogGroup.html); a group
    created has the tags given to CreateLogGroup (`tags`) and no other
    (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html);
    `aws:ResourceTag/<key>` is the tag the resource carries when the request is made
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-resourcetag).
    """
    account = "777840000004"
    logs = server.client("logs", key=account)
    group = "/app/payments"
    arn = f"arn:aws:logs:{REGION}:{account}:log-group:{group}"
    logs.create_log_group(logGroupName=group, tags={"team": "ops"})
    ops = user(
        server,
        account,
        "ops",
        {
            "Effect": "Allow",
            "Action": ["logs:DescribeLogStreams", "logs:GetLogEvents", "logs:FilterLogEvents"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:ResourceTag/team": "ops"}},
        },
    )
    ops("logs").filter_log_events(logGroupName=group)  # control: the tagged group is the ops team's
    logs.delete_log_group(logGroupName=group)
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    logs.put_log_events(
        logGroupName=group,
        logStreamName="s",
        logEvents=[{"timestamp": int(time.time() * 1000), "message": "card 4111-1111"}],
    )
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {}
    with pytest.raises(ClientError) as denied:
        ops("logs").filter_log_events(logGroupName=group)
    assert code(denied) == "AccessDeniedException"


def test_a_log_group_created_again_with_tags_has_those_tags_only(server: Endpoint) -> None:
    """The same, when the new group is created with tags of its own: it has those and no other (moto merged the
    creation's tags into the deleted group's)."""
    account = "777840000005"
    logs = server.client("logs", key=account)
    arn = f"arn:aws:logs:{REGION}:{account}:log-group:/app/audit"
    logs.create_log_group(logGroupName="/app/audit", tags={"team": "ops"})
    logs.delete_log_group(logGroupName="/app/audit")
    logs.create_log_group(logGroupName="/app/audit", tags={"env": "dev"})
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"env": "dev"}


def test_tags_put_on_a_log_group_before_it_exists_are_not_its_tags(server: Endpoint) -> None:
    """Attack: a user allowed logs:TagResource tags the ARN of a log group that does not exist yet (moto stores
    the tags; AWS answers ResourceNotFoundException,
    https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_TagResource.html); the administrator
    later creates the group, which then carried the planted team=ops (and with it the ops team's access)."""
    account = "777840000010"
    logs = server.client("logs", key=account)
    arn = f"arn:aws:logs:{REGION}:{account}:log-group:/app/later"
    try:
        logs.tag_resource(resourceArn=arn, tags={"team": "ops"})
    except ClientError as err:  # AWS's answer; moto's is a 200
        assert code_of(err) == "ResourceNotFoundException", err.response
    logs.create_log_group(logGroupName="/app/later", tags={"env": "prod"})
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"env": "prod"}


# ---- SNS: a topic created again has none of the deleted topic's subscriptions -----------------------------------


def test_a_topic_created_again_has_none_of_the_deleted_topics_subscriptions(server: Endpoint) -> None:
    """Held. Attack: account B's queue was subscribed (and confirmed) to A's topic `alerts`; A deletes the topic
    and creates `alerts` again (the same ARN). AWS deletes a topic's subscriptions with it
    (https://docs.aws.amazon.com/sns/latest/api/API_DeleteTopic.html, "Deleting a topic might prevent some
    messages previously sent to the topic from being delivered to subscribers"; the subscriptions are gone from
    ListSubscriptionsByTopic), so nothing the new topic publishes reaches B's queue unless B subscribes again."""
    a, b = "777840000006", "777840000007"
    sns, sqs_b = server.client("sns", key=a), server.client("sqs", key=b)
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    url = sqs_b.create_queue(QueueName="inbox")["QueueUrl"]
    queue = f"arn:aws:sqs:{REGION}:{b}:inbox"
    sqs_b.set_queue_attributes(
        QueueUrl=url,
        Attributes={
            "Policy": json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "sns.amazonaws.com"},
                            "Action": "sqs:SendMessage",
                            "Resource": queue,
                            "Condition": {"ArnEquals": {"aws:SourceArn": topic}},
                        }
                    ],
                }
            )
        },
    )
    sns.set_topic_attributes(
        TopicArn=topic,
        AttributeName="Policy",
        AttributeValue=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"AWS": b}, "Action": "sns:Subscribe", "Resource": topic}
                ],
            }
        ),
    )
    server.client("sns", key=b).subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue)  # B's own: confirmed
    sns.publish(TopicArn=topic, Message="before")
    got = sqs_b.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", [])
    assert [json.loads(m["Body"])["Message"] for m in got] == ["before"]  # control: the subscription delivers
    sqs_b.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
    sns.delete_topic(TopicArn=topic)
    assert sns.create_topic(Name="alerts")["TopicArn"] == topic
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    sns.publish(TopicArn=topic, Message="after")
    assert sqs_b.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", []) == []


# ---- Lambda: destinations are not served -------------------------------------------------------------------------


def test_lambda_destinations_are_not_served(server: Endpoint) -> None:
    """Held (nothing to outlive): an event invoke configuration (OnSuccess / OnFailure destinations) is not
    served, so no destination can outlive its function or point at a re-created queue or topic. The call is refused,
    never stored. https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionEventInvokeConfig.html"""
    account = "777840000008"
    lam = server.client("lambda", key=account)
    with pytest.raises(ClientError) as refused:
        lam.put_function_event_invoke_config(
            FunctionName="f",
            DestinationConfig={"OnSuccess": {"Destination": f"arn:aws:sqs:{REGION}:{account}:q"}},
        )
    # an operation the endpoint does not serve: 400 InvalidAction naming it (never stored, never a 2xx)
    assert code(refused) == "InvalidAction", refused.value.response
    assert "PutFunctionEventInvokeConfig" in refused.value.response["Error"]["Message"]
    with pytest.raises(ClientError):
        lam.get_function_event_invoke_config(FunctionName="f")


# ---- a restart -------------------------------------------------------------------------------------------------


def test_after_a_restart_a_log_group_and_an_object_start_without_tags(make_server: Any, tmp_path: Path) -> None:
    """Held: the embedded data plane's tags live and die with the resources they belong to, across a restart too:
    they survive it with their resources, and the owner's log group and object deleted and created again after it
    carry no tag of the old ones."""
    account = "777840000009"
    state = tmp_path / "state"
    first = make_server(state)
    first.client("logs", key=account).create_log_group(logGroupName="/r", tags={"team": "ops"})
    s3 = first.client("s3", key=account)
    s3.create_bucket(Bucket="r4-restart")
    s3.put_object(Bucket="r4-restart", Key="doc", Body=b"x", Tagging="share=yes")
    stop_server(first)
    second = make_server(state)
    logs = second.client("logs", key=account)
    # the data plane is durable (docs/architecture.md): the group and the object are there with their tags; the
    # owner deletes them and creates them again
    arn = f"arn:aws:logs:{REGION}:{account}:log-group:/r"
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"team": "ops"}
    assert object_tags(second.client("s3", key=account), "r4-restart", "doc") == {"share": "yes"}
    logs.delete_log_group(logGroupName="/r")
    second.client("s3", key=account).delete_object(Bucket="r4-restart", Key="doc")
    logs.create_log_group(logGroupName="/r")
    assert logs.list_tags_for_resource(resourceArn=f"arn:aws:logs:{REGION}:{account}:log-group:/r")["tags"] == {}
    s3 = second.client("s3", key=account)
    s3.create_bucket(Bucket="r4-restart")
    s3.put_object(Bucket="r4-restart", Key="src", Body=b"y")
    s3.copy_object(Bucket="r4-restart", Key="doc", CopySource={"Bucket": "r4-restart", "Key": "src"})
    assert object_tags(s3, "r4-restart", "doc") == {}
