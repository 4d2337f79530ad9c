"""Attack class: region and account confusion (review round 6).

A call authorized for one region, account (or partition) must act there and nowhere else, and be decided on the
resource the backend acts on. Each test plays the attack against a real `lambdaperm serve` with real boto3 and
asserts AWS's outcome; the structural oracle (acted-on ⊆ authorized) checks every request when the server stops.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.security.iam_users import clients_of, user_keys

REGION = "us-east-1"
OTHER = "eu-west-1"


def user(server: Endpoint, account: str, name: str, *statements: dict[str, Any]) -> Callable[..., Any]:
    """A user of `account` with an inline policy; returns a client factory signed with its key."""
    return clients_of(server, user_keys(server, account, name, *statements), REGION)


def call(client: Any, operation: str, params: dict[str, Any]) -> str:
    """ALLOWED, or the error code the call was answered with."""
    try:
        client._make_api_call(operation, params)
    except ClientError as err:
        return str(err.response["Error"]["Code"])
    return "ALLOWED"


# ---- SQS: every operation that takes a QueueUrl, every host spelling ------------------------------------------

_SQS = botocore.session.get_session().get_service_model("sqs")
QUEUE_OPERATIONS = sorted(
    name
    for name in _SQS.operation_names
    if _SQS.operation_model(name).input_shape is not None
    and "QueueUrl" in _SQS.operation_model(name).input_shape.members
)
# refused before anything is read or written: denied, the URL refused, or no such queue where the call acts
SQS_REFUSED = {"AccessDenied", "InvalidAddress", "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"}


def sqs_arguments(operation: str) -> dict[str, Any]:
    """The other parameters each operation needs (QueueUrl is the attack's)."""
    entry = {"Id": "e", "ReceiptHandle": "x"}
    return {
        "AddPermission": {"Label": "evil", "AWSAccountIds": ["999900000009"], "Actions": ["*"]},
        "ChangeMessageVisibility": {"ReceiptHandle": "x", "VisibilityTimeout": 0},
        "ChangeMessageVisibilityBatch": {"Entries": [{**entry, "VisibilityTimeout": 0}]},
        "DeleteMessage": {"ReceiptHandle": "x"},
        "DeleteMessageBatch": {"Entries": [entry]},
        "RemovePermission": {"Label": "owner"},
        "SendMessage": {"MessageBody": "evil"},
        "SendMessageBatch": {"Entries": [{"Id": "e", "MessageBody": "evil"}]},
        "SetQueueAttributes": {"Attributes": {"VisibilityTimeout": "7"}},
        "TagQueue": {"Tags": {"evil": "1"}},
        "UntagQueue": {"TagKeys": ["owner"]},
    }.get(operation, {})


def queue_urls(server: Endpoint, account: str, name: str) -> list[tuple[str, str]]:
    """(signed region, QueueUrl) pairs that name `account`'s queue `name` of us-east-1 — or, signed for another
    region, a queue of that region — by every host form: SQS's, the legacy ones, the local endpoint, and hosts
    that only look like SQS's."""
    path = f"/{account}/{name}"
    return [
        (REGION, f"{server.url}{path}"),
        (REGION, f"https://sqs.{REGION}.amazonaws.com{path}"),
        (REGION, f"https://{REGION}.queue.amazonaws.com{path}"),
        (REGION, f"https://queue.amazonaws.com{path}"),
        (REGION, f"https://sqs.{OTHER}.amazonaws.com{path}"),
        (REGION, f"https://{OTHER}.queue.amazonaws.com{path}"),
        (REGION, f"https://sqs.{OTHER}.amazonaws.com:443{path}"),
        (REGION, f"http://sqs.{OTHER}.localhost{path}"),
        (REGION, f"https://SQS.EU-WEST-1.example.com{path}"),
        (REGION, f"http://{OTHER}.queue.localhost{path}"),
        (REGION, f"https://sqs.{OTHER}.amazonaws.com.example.com{path}"),
        (OTHER, f"https://sqs.{REGION}.amazonaws.com{path}"),
        (OTHER, f"https://queue.amazonaws.com{path}"),
        (OTHER, f"http://sqs.{REGION}.localhost{path}"),
    ]


def queue_state(owner: Any, url: str) -> dict[str, Any]:
    """What an attack could read or change: the message count, attributes, policy, tags."""
    attributes = owner.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return {
        "visible": attributes["ApproximateNumberOfMessages"],
        "in-flight": attributes["ApproximateNumberOfMessagesNotVisible"],
        "timeout": attributes["VisibilityTimeout"],
        "policy": attributes.get("Policy"),
        "tags": owner.list_queue_tags(QueueUrl=url).get("Tags"),
    }


def guarded_queue(server: Endpoint, account: str, name: str) -> tuple[Any, str]:
    """`account`'s queue `name` in us-east-1 holding one message, with a tag and a permission; (owner, URL)."""
    owner = server.client("sqs", key=account)
    url = owner.create_queue(QueueName=name, tags={"owner": "a"})["QueueUrl"]
    owner.send_message(QueueUrl=url, MessageBody="secret")
    owner.add_permission(QueueUrl=url, Label="owner", AWSAccountIds=[account], Actions=["SendMessage"])
    return owner, url


def test_the_sqs_table_covers_every_operation_that_takes_a_queue_url() -> None:
    """The table below is the botocore model's: every SQS operation with a QueueUrl member."""
    assert len(QUEUE_OPERATIONS) == 17
    assert {"ReceiveMessage", "PurgeQueue", "SetQueueAttributes", "TagQueue"} <= set(QUEUE_OPERATIONS)


@pytest.mark.parametrize("operation", QUEUE_OPERATIONS)
def test_a_deny_on_the_queue_holds_for_every_operation_and_queue_url_host(server: Endpoint, operation: str) -> None:
    """Attack: a user allowed sqs:* and denied everything on `arn:aws:sqs:us-east-1:A:secret*` names the queue by a
    QueueUrl whose host names another region (`sqs.eu-west-1.…`, `eu-west-1.queue.…`, AWS's hosts or look-alikes),
    the legacy `queue.amazonaws.com` forms, or the local endpoint, in every SQS operation that takes a QueueUrl. If
    the URL is decided on one region's queue ARN while the backend resolves the queue in the signed region, the Deny
    does not apply and the call reads or changes the queue.

    AWS: SQS resolves the queue by account and name at the endpoint the request is sent to
    (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-queue-message-identifiers.html)
    and the action is authorized on that queue's ARN
    (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsqs.html). Every call is refused
    (denied, the address refused, or no such queue where it acts) and the queue is unchanged.
    """
    account = "666600000001"
    name = f"secret-{operation}"
    owner, url = guarded_queue(server, account, name)
    client = user(
        server,
        account,
        f"guarded-{operation}",
        {"Effect": "Allow", "Action": "sqs:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "sqs:*", "Resource": f"arn:aws:sqs:{REGION}:{account}:secret-{operation}"},
    )
    before = queue_state(owner, url)
    outcomes = {
        f"{region} {queue}": call(client("sqs", region), operation, {"QueueUrl": queue, **sqs_arguments(operation)})
        for region, queue in queue_urls(server, account, name)
    }
    wrong = {spelling: code for spelling, code in outcomes.items() if code not in SQS_REFUSED}
    assert wrong == {}, outcomes
    assert queue_state(owner, url) == before


@pytest.mark.parametrize("operation", QUEUE_OPERATIONS)
def test_another_account_reaches_no_queue_whatever_the_operation_and_host(server: Endpoint, operation: str) -> None:
    """Attack: account B (allowed `*` by its own policy) names A's queue, whose policy grants B nothing, by every
    QueueUrl host form, in every SQS operation that takes a QueueUrl.

    AWS: a call on another account's queue needs the queue policy to allow it
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html).
    Every call is refused and A's queue is unchanged.
    """
    a, b = "666600000011", "666600000012"
    name = f"secret-{operation}"
    owner, url = guarded_queue(server, a, name)
    client = user(server, b, f"outsider-{operation}", {"Effect": "Allow", "Action": "*", "Resource": "*"})
    before = queue_state(owner, url)
    outcomes = {
        f"{region} {queue}": call(client("sqs", region), operation, {"QueueUrl": queue, **sqs_arguments(operation)})
        for region, queue in queue_urls(server, a, name)
    }
    wrong = {spelling: code for spelling, code in outcomes.items() if code not in SQS_REFUSED}
    assert wrong == {}, outcomes
    assert queue_state(owner, url) == before


# ---- S3: CreateBucket's LocationConstraint 'EU' ----------------------------------------------------------------


def test_a_bucket_created_with_location_constraint_eu_lives_in_eu_west_1(server: Endpoint) -> None:
    """Attack: CreateBucket sent to us-east-1 (the global endpoint) with the legacy LocationConstraint `EU`. The
    backend placed the bucket in a region named `EU`, which no real request is signed for: a request signed for
    eu-west-1 was refused (a wrong deny) while one signed for the non-region `EU` was accepted with
    `aws:RequestedRegion` = `EU`, so a guardrail denying everything in eu-west-1 did not apply to a bucket AWS keeps
    in eu-west-1.

    AWS: "Buckets with a LocationConstraint of EU reside in eu-west-1"
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLocation.html); a CreateBucket sent to the
    us-east-1 endpoint may name another region in its LocationConstraint
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html); a request signed for another region
    than the bucket's is refused with AuthorizationHeaderMalformed (expecting the bucket's region).
    """
    from tests.security.signed_http import send

    account = "666600000101"
    owner = server.client("s3", key=account)
    owner.create_bucket(Bucket="legacy-eu-bucket", CreateBucketConfiguration={"LocationConstraint": "EU"})
    # signed for eu-west-1: the bucket's region, accepted
    assert send(server, "s3", OTHER, "PUT", "/legacy-eu-bucket/ok", key=account, body=b"x").status == 200
    # signed for `EU` (no region) or us-east-1: refused, expecting eu-west-1, nothing written
    for signed in ("EU", REGION):
        reply = send(server, "s3", signed, "PUT", f"/legacy-eu-bucket/{signed}", key=account, body=b"x")
        assert (reply.status, reply.code) == (400, "AuthorizationHeaderMalformed"), (signed, reply.text)
        assert f"expecting '{OTHER}'" in reply.text
    listed = server.client("s3", key=account, region=OTHER).list_objects_v2(Bucket="legacy-eu-bucket")
    assert [o["Key"] for o in listed.get("Contents", [])] == ["ok"]


def test_a_guardrail_on_eu_west_1_holds_for_a_bucket_created_with_eu(server: Endpoint) -> None:
    """Attack: a user allowed s3:* but denied everything when `aws:RequestedRegion` is eu-west-1 writes to a bucket
    created with LocationConstraint `EU` (in eu-west-1) by signing for any other region name, `EU` included.

    AWS: the bucket is in eu-west-1 (API_GetBucketLocation.html); a request signed for eu-west-1 is denied by the
    guardrail (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-requestedregion)
    and one signed for another region is refused by S3. Nothing is written.
    """
    from tests.security.signed_http import send

    account = "666600000102"
    owner = server.client("s3", key=account)
    owner.create_bucket(Bucket="guarded-eu-bucket", CreateBucketConfiguration={"LocationConstraint": "EU"})
    iam = server.client("iam", key=account)
    iam.create_user(UserName="no-eu")
    iam.put_user_policy(
        UserName="no-eu",
        PolicyName="p",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                    {
                        "Effect": "Deny",
                        "Action": "*",
                        "Resource": "*",
                        "Condition": {"StringEquals": {"aws:RequestedRegion": OTHER}},
                    },
                ],
            }
        ),
    )
    key = iam.create_access_key(UserName="no-eu")["AccessKey"]
    outcomes = {}
    for signed in (OTHER, "EU", REGION, "eu-west-2"):
        reply = send(
            server,
            "s3",
            signed,
            "PUT",
            f"/guarded-eu-bucket/{signed}",
            key=key["AccessKeyId"],
            secret=key["SecretAccessKey"],
            body=b"x",
        )
        outcomes[signed] = (reply.status, reply.code)
    assert outcomes[OTHER] == (403, "AccessDenied"), outcomes
    assert all(outcome == (400, "AuthorizationHeaderMalformed") for s, outcome in outcomes.items() if s != OTHER), (
        outcomes
    )
    assert "Contents" not in server.client("s3", key=account, region=OTHER).list_objects_v2(Bucket="guarded-eu-bucket")
