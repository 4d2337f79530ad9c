"""Attack class: region and account confusion (review round 14).

Rounds 12 and 13 each found a stored ARN (an S3 notification destination, an SNS `sqs` endpoint) decided on its text
while moto acted by the ARN's account, region and name. This round closes the shape structurally: a table over every
ARN-, endpoint- or queue-URL-named member of every served operation's input (botocore's models, nested members
included) stating how each is kept from that confusion; a member a later botocore adds fails the table until it is
classified. Rows the table cannot prove by a check are probed against a real `lambdaperm serve` with real boto3 and
round 13's ten spellings (partitions, wrong or upper-case service, trailing newline or space, extra `:` or `/`
segment, another region or account).

AWS: an ARN is `arn:partition:service:region:account-id:resource` and names a resource of its partition
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html); a policy's Deny on a resource's ARN applies to
every request that acts on that resource
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.security.arn_spellings import spellings
from tests.security.botocore_members import served_members
from tests.security.iam_users import clients_of, user_keys
from tests.security.queue_policies import allow_sns_to_send

A = "791400000001"
B = "791400000002"
EAST = "us-east-1"

# round 13's ten spellings of "resource <res> of service <s> in A's us-east-1" that are not its ARN
SPELLINGS: dict[str, str] = spellings(wrong_service="iam")

# ---- the table -------------------------------------------------------------------------------------------------

OWN = "the operation's own resource: a catalog ARN parameter, decided on the value the backend resolves (probed below)"
ROUND11 = "classified by implicit-accesses round 11's table (PassRole need, 501 reader, unserved, or acts on nothing)"
VALIDATED = "validated as an `arn:aws:` ARN of its kind (fullmatch) before the decision, by"
NOT_STORED = "read to answer or filter, never stored as a reference the service later acts on"
REFUSED = "refused before anything is stored (probed round 14: 501 or the service's validation error)"
NOT_AN_ARN = "not an ARN (a boolean, an enum or a flag whose name ends in Endpoint/Arn)"
QUEUE_URL = "the operation's own queue, by URL: read by the gateway's queue-URL reader, earlier rounds' tests"

# rows a check below cannot derive (the rest: the catalog's ARN parameters, and round 11's table)
EXPLICIT: dict[tuple[str, str, str], str] = {
    ("s3", "PutBucketNotificationConfiguration", f"NotificationConfiguration.{p}"): (
        f"{VALIDATED} dataplane/s3_notification_arns.py (round 12)"
    )
    for p in (
        "TopicConfigurations[].TopicArn",
        "QueueConfigurations[].QueueArn",
        "LambdaFunctionConfigurations[].LambdaFunctionArn",
    )
}
EXPLICIT |= {
    ("sns", "Subscribe", "Endpoint"): (
        f"{VALIDATED} dataplane/sns_queue_endpoints.py (sqs, round 13) and dataplane/sns_lambda_endpoints.py (lambda, "
        "round 7); every other protocol 501 (sns_protocols, implicit round 11)"
    ),
    ("lambda", "CreateEventSourceMapping", "EventSourceArn"): (
        f"{VALIDATED} services/lambda_/sqs_source_arns.py (round 14) for SQS; streams decided then 501 (undelivered)"
    ),
    ("dynamodb", "CreateTable", "GlobalTableSourceArn"): REFUSED,
    ("dynamodb", "EnableKinesisStreamingDestination", "StreamArn"): REFUSED,
    ("dynamodb", "DisableKinesisStreamingDestination", "StreamArn"): REFUSED,
    ("dynamodb", "UpdateKinesisStreamingDestination", "StreamArn"): REFUSED,
    ("dynamodb", "ListBackups", "ExclusiveStartBackupArn"): NOT_STORED,
    # moto 5.2.1's handlers read none of these three: the subnet / endpoint is created without them (noticed, not
    # a region/account confusion: nothing is stored that names another resource)
    ("ec2", "CreateSubnet", "OutpostArn"): NOT_STORED,
    ("ec2", "CreateVpcEndpoint", "ResourceConfigurationArn"): NOT_STORED,
    ("ec2", "CreateVpcEndpoint", "ServiceNetworkArn"): NOT_STORED,
    ("ec2", "CreateVpcEndpoint", "DnsOptions.PrivateDnsOnlyForInboundResolverEndpoint"): NOT_AN_ARN,
    ("ec2", "ModifyVpcEndpoint", "DnsOptions.PrivateDnsOnlyForInboundResolverEndpoint"): NOT_AN_ARN,
    ("ec2", "RunInstances", "MetadataOptions.HttpEndpoint"): NOT_AN_ARN,
    **{
        ("ec2", "RunInstances", p): REFUSED  # "lambdaperm decides RunInstances but does not run instances"
        for p in (
            "BlockDeviceMappings[].Ebs.OutpostArn",
            "CapacityReservationSpecification.CapacityReservationTarget.CapacityReservationResourceGroupArn",
            "IamInstanceProfile.Arn",
            "LicenseSpecifications[].LicenseConfigurationArn",
            "Placement.HostResourceGroupArn",
        )
    },
    **{
        ("iam", op, p): NOT_STORED  # a simulation: nothing is kept
        for op in ("SimulateCustomPolicy", "SimulatePrincipalPolicy")
        for p in ("CallerArn", "ResourceArns")
    },
    ("lambda", "AddPermission", "SourceArn"): (
        "a condition value (aws:SourceArn) kept in the function policy and compared as text, as AWS compares it; "
        "a partition other than the request's matches nothing (round 13's test)"
    ),
    ("lambda", "ListEventSourceMappings", "EventSourceArn"): NOT_STORED,
    **{
        ("lambda", op, p): REFUSED  # ValidationException / 501 (unserved settings, round 10)
        for op in ("CreateFunction", "UpdateFunctionConfiguration")
        for p in (
            "CapacityProviderConfig.LambdaManagedInstancesCapacityProviderConfig.CapacityProviderArn",
            "FileSystemConfigs[].Arn",
        )
    },
    ("logs", "AssociateSourceToS3TableIntegration", "integrationArn"): REFUSED,
    ("logs", "CreateImportTask", "importSourceArn"): REFUSED,
    ("logs", "DescribeImportTasks", "importSourceArn"): NOT_STORED,
    ("logs", "ListLogAnomalyDetectors", "filterLogGroupArn"): NOT_STORED,
    ("logs", "ListSourcesForS3TableIntegration", "integrationArn"): NOT_STORED,
    ("logs", "PutIntegration", "resourceConfig.openSearchResourceConfig.applicationArn"): REFUSED,
    ("s3", "CreateBucketMetadataTableConfiguration", "MetadataTableConfiguration.S3TablesDestination.TableBucketArn"): (
        REFUSED
    ),
    ("s3", "PutBucketMetricsConfiguration", "MetricsConfiguration.Filter.AccessPointArn"): REFUSED,
    ("s3", "PutBucketMetricsConfiguration", "MetricsConfiguration.Filter.And.AccessPointArn"): REFUSED,
    **{
        ("sns", op, "PlatformApplicationArn"): REFUSED  # no platform application can exist (implicit round 11)
        for op in (
            "CreatePlatformEndpoint",
            "DeletePlatformApplication",
            "GetPlatformApplicationAttributes",
            "ListEndpointsByPlatformApplication",
            "SetPlatformApplicationAttributes",
        )
    },
    **{
        ("sns", op, "EndpointArn"): REFUSED  # no platform endpoint can exist
        for op in ("DeleteEndpoint", "GetEndpointAttributes", "SetEndpointAttributes")
    },
    **{
        ("sns", op, "SubscriptionArn"): "the operation's own subscription, looked up by its exact ARN"
        for op in ("GetSubscriptionAttributes", "SetSubscriptionAttributes", "Unsubscribe")
    },
    ("sns", "Subscribe", "ReturnSubscriptionArn"): NOT_AN_ARN,
    **{
        ("sqs", op, "QueueUrl"): QUEUE_URL
        for op in (
            "AddPermission",
            "ChangeMessageVisibility",
            "ChangeMessageVisibilityBatch",
            "DeleteMessage",
            "DeleteMessageBatch",
            "DeleteQueue",
            "GetQueueAttributes",
            "ListDeadLetterSourceQueues",
            "ListQueueTags",
            "PurgeQueue",
            "ReceiveMessage",
            "RemovePermission",
            "SendMessage",
            "SendMessageBatch",
            "SetQueueAttributes",
            "TagQueue",
            "UntagQueue",
        )
    },
    ("sts", "AssumeRole", "PolicyArns"): (
        "a session policy: resolved in the catalog and the role's account (services/sts.py), and it can only "
        "narrow the session"
    ),
    ("sts", "AssumeRole", "PolicyArns[].arn"): "as PolicyArns",
    ("sts", "AssumeRole", "ProvidedContexts[].ProviderArn"): NOT_STORED,
}

_NAMED = re.compile(r"(Arn|ARN|arn|Arns|ARNs|Endpoint|endpoint|QueueUrl)$")


def _inventory() -> set[tuple[str, str, str]]:
    return served_members(lambda name, _parent: bool(_NAMED.search(name)))


def classify() -> dict[tuple[str, str, str], str]:
    """Every ARN/endpoint/queue-URL member of every served operation, with how it is kept from confusion."""
    from lambdaperm.catalog import bindings
    from tests.security.test_implicit_accesses_round11 import ROWS

    table: dict[tuple[str, str, str], str] = {}
    for service, operation, path in _inventory():
        key = (service, operation, path)
        arn_params = {p.replace("[]", "") for p in bindings.ARN_PARAMS.get(service, ())}
        if key in EXPLICIT:
            table[key] = EXPLICIT[key]
        elif key in ROWS and ROWS[key][0] != "delivered":
            table[key] = f"{ROUND11}: {ROWS[key][0]}"
        elif path.replace("[]", "") in arn_params:
            table[key] = OWN
    return table


def test_every_stored_arn_member_of_a_served_operation_is_classified() -> None:
    """Every member of a served operation's input whose name ends in Arn/ARN/Arns/Endpoint/QueueUrl (nested
    included) is classified: validated as an `arn:aws:` ARN of its kind (the module named, which must exist), the
    operation's own resource (a catalog ARN parameter), round 11's classification, not stored, not an ARN, or
    refused. A round-11 row that delivers must be VALIDATED here; a new member or a stale row fails."""
    import importlib

    found = _inventory()
    table = classify()
    assert found - set(table) == set(), sorted(found - set(table))
    assert set(EXPLICIT) - found == set(), sorted(set(EXPLICIT) - found)  # a stale row
    for why in table.values():
        if why.startswith(VALIDATED):
            for module in re.findall(r"(\w+/\w+(?:/\w+)?)\.py", why):
                importlib.import_module("lambdaperm." + module.replace("/", "."))
    from tests.security.test_implicit_accesses_round11 import ROWS

    for key, (kind, _why) in ROWS.items():
        if kind == "delivered" and key in found:
            assert table[key].startswith(VALIDATED), key


# ---- probes of the rows the table cannot prove ------------------------------------------------------------------


def _code(call: Callable[[], Any]) -> str:
    with pytest.raises(ClientError) as failed:
        call()
    return str(failed.value.response["Error"]["Code"])


@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
def test_an_own_resource_arn_spelled_otherwise_does_not_escape_a_deny_on_it(server: Endpoint, spelling: str) -> None:
    """Attack (the OWN rows): A's user is allowed everything but denied tagging A's table, topic and log group and
    changing or publishing to the topic, each on its `aws` ARN; it names each otherwise (ten spellings) in DynamoDB
    TagResource, SNS TagResource / SetTopicAttributes / Publish (TopicArn and TargetArn) and Logs TagResource. AWS:
    the Deny applies to every request acting on the resource
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html): whatever each call
    answers, no tag, attribute or message reaches A's resources."""
    name = f"r14-own-{spelling}"
    ddb, sns, logs, sqs = (server.client(s, key=A) for s in ("dynamodb", "sns", "logs", "sqs"))
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    topic = sns.create_topic(Name=name)["TopicArn"]
    logs.create_log_group(logGroupName=name)
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    allow_sns_to_send(sqs, url, "*")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=f"arn:aws:sqs:{EAST}:{A}:{name}")
    table, group = f"arn:aws:dynamodb:{EAST}:{A}:table/{name}", f"arn:aws:logs:{EAST}:{A}:log-group:{name}"
    keys = user_keys(
        server,
        A,
        name,
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {
            "Effect": "Deny",
            "Action": [
                "dynamodb:TagResource",
                "sns:TagResource",
                "sns:SetTopicAttributes",
                "sns:Publish",
                "logs:TagResource",
            ],
            "Resource": [table, topic, group],
        },
    )
    user = clients_of(server, keys)

    def spelled(service: str, res: str) -> str:
        return SPELLINGS[spelling].format(s=service, S=service.upper(), r=EAST, a=A, b=B, res=res)

    calls: list[Callable[[], Any]] = [
        lambda: user("dynamodb").tag_resource(
            ResourceArn=spelled("dynamodb", f"table/{name}"), Tags=[{"Key": "x", "Value": "y"}]
        ),
        lambda: user("sns").tag_resource(ResourceArn=spelled("sns", name), Tags=[{"Key": "x", "Value": "y"}]),
        lambda: user("sns").set_topic_attributes(
            TopicArn=spelled("sns", name), AttributeName="DisplayName", AttributeValue="pwned"
        ),
        lambda: user("sns").publish(TopicArn=spelled("sns", name), Message="secret"),
        lambda: user("sns").publish(TargetArn=spelled("sns", name), Message="secret"),
        lambda: user("logs").tag_resource(resourceArn=spelled("logs", f"log-group:{name}"), tags={"x": "y"}),
    ]
    for call in calls:
        with contextlib.suppress(ClientError):
            call()
    assert ddb.list_tags_of_resource(ResourceArn=table).get("Tags", []) == []
    assert sns.list_tags_for_resource(ResourceArn=topic).get("Tags", []) == []
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"].get("DisplayName", "") == ""
    assert logs.list_tags_for_resource(resourceArn=group).get("tags", {}) == {}
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", []) == []


@pytest.mark.parametrize("spelling", ["space", "extra-colon-segment"])
def test_an_sqs_event_source_no_queue_can_have_is_refused(server: Endpoint, spelling: str) -> None:
    """Attack (round 13's note): CreateEventSourceMapping with EventSourceArn `arn:aws:sqs:us-east-1:A:q ` or
    `…:A:x:q` — names no queue can hold — was accepted and stored (the decision read `q ` / `x:q`). AWS: the event
    source is the queue's ARN (https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html;
    queue names: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html), and a
    queue Lambda cannot read is InvalidParameterValueException: refused, no mapping stored."""
    from tests.e2e.lambda_helpers import make_role, zip_of

    q = f"r14-esm-{spelling}"
    server.client("sqs", key=A).create_queue(QueueName=q)
    allow_all = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    role = make_role(server.client("iam", key=A), q, policy=allow_all)
    lam = server.client("lambda", key=A)
    code = zip_of({"app.py": "def handler(event, context):\n    return 'ran'\n"})
    lam.create_function(FunctionName=q, Runtime="python3.11", Role=role, Handler="app.handler", Code={"ZipFile": code})
    arn = SPELLINGS[spelling].format(s="sqs", S="SQS", r=EAST, a=A, b=B, res=q)
    assert _code(lambda: lam.create_event_source_mapping(FunctionName=q, EventSourceArn=arn)) == (
        "InvalidParameterValueException"
    )
    assert lam.list_event_source_mappings(FunctionName=q)["EventSourceMappings"] == []
    # control: the queue's own ARN is accepted
    lam.create_event_source_mapping(FunctionName=q, EventSourceArn=f"arn:aws:sqs:{EAST}:{A}:{q}", Enabled=False)
    assert len(lam.list_event_source_mappings(FunctionName=q)["EventSourceMappings"]) == 1
