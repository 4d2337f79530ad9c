"""Attack class 2, review round 8: the executor acting on, or reading, a value otherwise than lambdaperm.

Each test plays the attack against a real `lambdaperm serve` with real boto3 and asserts AWS's outcome. The
structural oracle (tests/structural) also checks *acted-on ⊆ authorized* for every request when each test's
server stops.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.security.iam_users import clients_of, user_keys

REGION = "us-east-1"


def user(server: Endpoint, account: str, name: str, statements: list[dict[str, Any]]) -> Any:
    """A user of `account` with exactly these policy statements, as a boto3 client factory."""
    return clients_of(server, user_keys(server, account, name, *statements))


def _error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = excinfo.value.response["Error"]
    return str(error.get("Code")), str(error.get("Message"))


def test_a_redrive_allow_policy_naming_its_source_as_a_string_admits_no_other_queue(server: Endpoint) -> None:
    """SQS reads `sourceQueueArns` as a list of up to 10 queue ARNs and refuses a RedriveAllowPolicy of any
    other shape ("Amazon SQS can't create the redrive allow policy, as it's in an unsupported format");
    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-configure-dead-letter-queue-redrive.html.
    Attack: the dead-letter queue's owner writes `byQueue` with `sourceQueueArns` as one string naming
    `orders-prod`; the backend stored it, and lambdaperm's redrive check read it with `in`, a substring test,
    so a user allowed only the queue `orders` made the guarded queue its dead-letter queue (messages moved
    there: writes to a queue whose owner admitted only `orders-prod`). AWS refuses the policy when it is
    written, so no source queue but those it lists can ever name the queue.
    """
    account = "888800000801"
    admin = server.client("sqs", key=account)
    dlq = admin.create_queue(QueueName="guarded-dlq")["QueueUrl"]
    only_prod = {"redrivePermission": "byQueue", "sourceQueueArns": f"arn:aws:sqs:{REGION}:{account}:orders-prod"}
    with pytest.raises(ClientError) as refused:
        admin.set_queue_attributes(QueueUrl=dlq, Attributes={"RedriveAllowPolicy": json.dumps(only_prod)})
    code, message = _error(refused)
    assert code == "InvalidAttributeValue"
    assert "unsupported format" in message
    attributes = admin.get_queue_attributes(QueueUrl=dlq, AttributeNames=["All"])["Attributes"]
    assert "RedriveAllowPolicy" not in attributes
    # the documented shape is taken, and holds
    only_prod["sourceQueueArns"] = [str(only_prod["sourceQueueArns"])]
    admin.set_queue_attributes(QueueUrl=dlq, Attributes={"RedriveAllowPolicy": json.dumps(only_prod)})
    admin.create_queue(QueueName="orders")
    sqs = user(
        server,
        account,
        "orders-owner",
        [
            {"Effect": "Allow", "Action": "sqs:*", "Resource": f"arn:aws:sqs:{REGION}:{account}:orders"},
        ],
    )("sqs")
    source = sqs.get_queue_url(QueueName="orders")["QueueUrl"]
    redrive = {"deadLetterTargetArn": f"arn:aws:sqs:{REGION}:{account}:guarded-dlq", "maxReceiveCount": "1"}
    with pytest.raises(ClientError) as denied:
        sqs.set_queue_attributes(QueueUrl=source, Attributes={"RedrivePolicy": json.dumps(redrive)})
    assert _error(denied)[0] == "InvalidParameterValue"
    assert "RedrivePolicy" not in sqs.get_queue_attributes(QueueUrl=source, AttributeNames=["All"])["Attributes"]


@pytest.mark.parametrize(
    "policy",
    [
        {"redrivePermission": "byQueue"},
        {"redrivePermission": "byQueue", "sourceQueueArns": []},
        {
            "redrivePermission": "byQueue",
            "sourceQueueArns": [f"arn:aws:sqs:{REGION}:888800000802:q{i}" for i in range(11)],
        },
        {"redrivePermission": "allowAll", "sourceQueueArns": [f"arn:aws:sqs:{REGION}:888800000802:q"]},
        {"redrivePermission": "AllowAll"},
        {"redrivePermission": "byQueue", "sourceQueueArns": [{"arn": "x"}]},
        ["byQueue"],
    ],
    ids=[
        "byqueue-without-sources",
        "empty-sources",
        "eleven-sources",
        "sources-with-allowall",
        "case",
        "object",
        "not-an-object",
    ],
)
def test_a_redrive_allow_policy_of_another_shape_is_refused(server: Endpoint, policy: object) -> None:
    """The RedriveAllowPolicy shapes SQS does not take are refused when written (InvalidAttributeValue), so
    the stored policy is always one the redrive check reads as SQS does. AWS rule: as above."""
    admin = server.client("sqs", key="888800000802")
    dlq = admin.create_queue(QueueName="shapes-dlq")["QueueUrl"]
    with pytest.raises(ClientError) as refused:
        admin.set_queue_attributes(QueueUrl=dlq, Attributes={"RedriveAllowPolicy": json.dumps(policy)})
    assert _error(refused)[0] == "InvalidAttributeValue"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DelaySeconds", "5.0"),
        ("DelaySeconds", "0x10"),
        ("DelaySeconds", "1e3"),
        ("DelaySeconds", " 5"),
        ("DelaySeconds", "901"),
        ("VisibilityTimeout", "99999"),
        ("VisibilityTimeout", "-1"),
        ("MaximumMessageSize", "1e3"),
        ("MessageRetentionPeriod", "59"),
        ("ReceiveMessageWaitTimeSeconds", "+5"),
        ("KmsDataKeyReusePeriodSeconds", "٥٠٠"),  # Arabic-Indic digits: int() reads them as 500
        ("ContentBasedDeduplication", "yes"),
        ("FifoQueue", "1"),
    ],
)
def test_a_queue_attribute_value_sqs_does_not_take_is_invalid_attribute_value(
    server: Endpoint, name: str, value: str
) -> None:
    """SQS takes each integer attribute as "an integer from L to H" and booleans as true/false, and answers
    InvalidAttributeValue otherwise (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/
    API_SetQueueAttributes.html). The backend read them with `int()` — `"5.0"`, `"0x10"`, `"1e3"` crashed it
    (500 InternalFailure, against the rule that nothing is a 500), `" 5"`, `"+5"`, Arabic-Indic digits and
    out-of-range values were stored — and read any boolean text but `true` as false. CreateQueue and
    SetQueueAttributes are both checked; the queue keeps its value."""
    admin = server.client("sqs", key="888800000803")
    queue = admin.create_queue(QueueName="values")["QueueUrl"]
    before = admin.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    fifo_name = name in ("ContentBasedDeduplication", "FifoQueue")
    with pytest.raises(ClientError) as created:
        admin.create_queue(QueueName="values-new.fifo" if fifo_name else "values-new", Attributes={name: value})
    assert _error(created) == ("InvalidAttributeValue", f"Invalid value for the parameter {name}.")
    if name != "FifoQueue":  # FifoQueue is set at creation only
        with pytest.raises(ClientError) as updated:
            admin.set_queue_attributes(QueueUrl=queue, Attributes={name: value})
        assert _error(updated) == ("InvalidAttributeValue", f"Invalid value for the parameter {name}.")
    assert admin.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"] == before
    assert "values-new" not in json.dumps(admin.list_queues())


def test_queue_attribute_values_in_range_are_taken(server: Endpoint) -> None:
    """The values SQS documents are still taken (no wrong refusal): bounds of each range, true/false."""
    admin = server.client("sqs", key="888800000804")
    attributes = {
        "DelaySeconds": "900",
        "VisibilityTimeout": "0",
        "MaximumMessageSize": "1024",
        "MessageRetentionPeriod": "1209600",
        "ReceiveMessageWaitTimeSeconds": "20",
        "KmsDataKeyReusePeriodSeconds": "60",
    }
    queue = admin.create_queue(QueueName="bounds", Attributes=attributes)["QueueUrl"]
    stored = admin.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    assert {k: stored[k] for k in attributes if k in stored} == {k: v for k, v in attributes.items() if k in stored}
    fifo = admin.create_queue(
        QueueName="bounds.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "false"}
    )
    assert fifo["QueueUrl"].endswith("/bounds.fifo")


def test_s3_keys_with_dot_segments_and_other_normal_forms_are_other_keys(server: Endpoint) -> None:
    """S3 keys are byte sequences: `a/../secret`, `./secret`, `/secret`, `secret.`, `a//../secret`, a
    percent-encoded `%2e%2e/secret` and the NFD spelling of an NFC key are each their own key, never
    normalized (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html). Attack (held): a
    user denied `secret` reads and writes through each spelling; the backend reads them as written, so
    nothing reaches `secret` and its content is unchanged."""
    account = "888800000805"
    admin = server.client("s3", key=account)
    admin.create_bucket(Bucket="r8-keys")
    admin.put_object(Bucket="r8-keys", Key="secret", Body=b"TOPSECRET")
    nfc = unicodedata.normalize("NFC", "café")
    admin.put_object(Bucket="r8-keys", Key=nfc, Body=b"NFC")
    s3 = user(
        server,
        account,
        "keys",
        [
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {
                "Effect": "Deny",
                "Action": "s3:*",
                "Resource": ["arn:aws:s3:::r8-keys/secret", f"arn:aws:s3:::r8-keys/{nfc}"],
            },
        ],
    )("s3")
    spellings = [
        "a/../secret",
        "./secret",
        "/secret",
        "secret.",
        "a//../secret",
        "%2e%2e/secret",
        unicodedata.normalize("NFD", "café"),
    ]
    for key in spellings:
        with pytest.raises(ClientError) as missing:
            s3.get_object(Bucket="r8-keys", Key=key)
        assert _error(missing)[0] == "NoSuchKey", key
        s3.put_object(Bucket="r8-keys", Key=key, Body=b"overwritten")
    assert admin.get_object(Bucket="r8-keys", Key="secret")["Body"].read() == b"TOPSECRET"
    assert admin.get_object(Bucket="r8-keys", Key=nfc)["Body"].read() == b"NFC"
    listed = {o["Key"] for o in admin.list_objects_v2(Bucket="r8-keys")["Contents"]}
    assert listed == {"secret", nfc, *spellings}


def test_delete_vpc_endpoints_with_one_denied_endpoint_deletes_none(server: Endpoint) -> None:
    """EC2 authorizes every resource a call names; one denied is UnauthorizedOperation for the whole call
    (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html). Attack (held):
    DeleteVpcEndpoints of an allowed and a denied endpoint deletes neither; CreateTags of an allowed VPC and a
    denied security group tags neither."""
    account = "888800000806"
    admin = server.client("ec2", key=account)
    vpc = admin.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    group = admin.create_security_group(GroupName="db", Description="d", VpcId=vpc)["GroupId"]
    allowed = admin.create_vpc_endpoint(VpcId=vpc, ServiceName=f"com.amazonaws.{REGION}.s3", VpcEndpointType="Gateway")[
        "VpcEndpoint"
    ]["VpcEndpointId"]
    denied = admin.create_vpc_endpoint(
        VpcId=vpc, ServiceName=f"com.amazonaws.{REGION}.dynamodb", VpcEndpointType="Gateway"
    )["VpcEndpoint"]["VpcEndpointId"]
    ec2 = user(
        server,
        account,
        "netops",
        [
            {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"},
            {
                "Effect": "Deny",
                "Action": "ec2:*",
                "Resource": [
                    f"arn:aws:ec2:{REGION}:{account}:vpc-endpoint/{denied}",
                    f"arn:aws:ec2:{REGION}:{account}:security-group/{group}",
                ],
            },
        ],
    )("ec2")
    with pytest.raises(ClientError) as refused:
        ec2.delete_vpc_endpoints(VpcEndpointIds=[allowed, denied])
    assert _error(refused)[0] == "UnauthorizedOperation"
    left = {e["VpcEndpointId"] for e in admin.describe_vpc_endpoints()["VpcEndpoints"]}
    assert {allowed, denied} <= left
    with pytest.raises(ClientError) as untagged:
        ec2.create_tags(Resources=[vpc, group], Tags=[{"Key": "owner", "Value": "attacker"}])
    assert _error(untagged)[0] == "UnauthorizedOperation"
    tags = admin.describe_tags(Filters=[{"Name": "key", "Values": ["owner"]}])["Tags"]
    assert tags == []


def test_transact_get_items_decides_each_entry_on_its_own_projection(server: Endpoint) -> None:
    """TransactGetItems is authorized as dynamodb:GetItem per entry, each with its own
    `dynamodb:Attributes` (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/
    specifying-conditions.html). Attack (held): under the guide's attribute policy, one entry projects `pk`
    and a second entry of the same table projects `#s` = `secret`, or projects nothing (whole item):
    AccessDeniedException, nothing returned."""
    account = "888800000807"
    admin = server.client("dynamodb", key=account)
    admin.create_table(
        TableName="r8-tx",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    admin.put_item(TableName="r8-tx", Item={"pk": {"S": "alice"}, "secret": {"S": "SSN-123"}})
    ddb = user(
        server,
        account,
        "reader",
        [
            {
                "Effect": "Allow",
                "Action": "dynamodb:GetItem",
                "Resource": f"arn:aws:dynamodb:{REGION}:{account}:table/r8-tx",
                "Condition": {
                    "ForAllValues:StringEquals": {"dynamodb:Attributes": ["pk"]},
                    "StringEqualsIfExists": {"dynamodb:Select": "SPECIFIC_ATTRIBUTES"},
                },
            }
        ],
    )("dynamodb")
    allowed = {"Get": {"TableName": "r8-tx", "Key": {"pk": {"S": "alice"}}, "ProjectionExpression": "pk"}}
    assert ddb.transact_get_items(TransactItems=[allowed])["Responses"][0]["Item"] == {"pk": {"S": "alice"}}
    wider = [
        {
            "Get": {
                "TableName": "r8-tx",
                "Key": {"pk": {"S": "alice"}},
                "ProjectionExpression": "#s",
                "ExpressionAttributeNames": {"#s": "secret"},
            }
        },
        {"Get": {"TableName": "r8-tx", "Key": {"pk": {"S": "alice"}}}},
    ]
    for entry in wider:
        with pytest.raises(ClientError) as denied:
            ddb.transact_get_items(TransactItems=[allowed, entry])
        assert _error(denied)[0] == "AccessDeniedException"
        assert "SSN-123" not in json.dumps(denied.value.response, default=str)


def test_transact_get_items_nested_projection_is_not_served(server: Endpoint) -> None:
    """A nested document path in a TransactGetItems projection cannot be applied to the backend's whole
    item here: 501 NotImplemented naming it, nothing returned (fail closed; DynamoDB would answer the path)."""
    account = "888800000808"
    admin = server.client("dynamodb", key=account)
    admin.create_table(
        TableName="r8-nested",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    admin.put_item(TableName="r8-nested", Item={"pk": {"S": "a"}, "doc": {"M": {"x": {"S": "1"}, "y": {"S": "2"}}}})
    get = {"TableName": "r8-nested", "Key": {"pk": {"S": "a"}}, "ProjectionExpression": "doc.x"}
    with pytest.raises(ClientError) as refused:
        admin.transact_get_items(TransactItems=[{"Get": get}])
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert "doc.x" in _error(refused)[1]
    get["ProjectionExpression"] = "#d, pk"
    get["ExpressionAttributeNames"] = {"#d": "doc"}
    item = admin.transact_get_items(TransactItems=[{"Get": get}])["Responses"][0]["Item"]
    assert set(item) == {"pk", "doc"}
