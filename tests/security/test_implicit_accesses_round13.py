"""Attack class: implicit accesses, review round 13 — Lambda function settings, tabled member by member.

Round 12 tabled SQS/SNS attributes, S3 bucket sub-resources, DynamoDB table members and Logs Put operations from
botocore, and left Lambda's function settings out. This round builds that table: every member (nested included)
of the Lambda operations that store a setting Lambda acts on later — CreateFunction, UpdateFunctionConfiguration,
UpdateFunctionCode, Create/UpdateEventSourceMapping, Create/UpdateFunctionUrlConfig,
Put/UpdateFunctionEventInvokeConfig,
PutFunctionConcurrency, PutProvisionedConcurrencyConfig, PutRuntimeManagementConfig, PutFunctionRecursionConfig,
PutFunctionScalingConfig, PutFunctionCodeSigningConfig, Create/UpdateAlias, PublishVersion — each classified:

- performed: lambdaperm does what Lambda does with it;
- decided: it names a resource, and the access Lambda makes there is decided as AWS decides it;
- refused: 501 NotImplemented (or Lambda's own refusal) by the module named, checked by calling it;
- unserved: the whole operation is not served (not in `services/lambda_/operations.OPERATIONS`), probed;
- inert: nothing is reached through it in lambdaperm, with the reason.

A member a later botocore adds fails `test_every_lambda_setting_member_is_classified` until classified. The round
also plays what round 12 read but did not test (SNS FilterPolicyScope MessageBody and RawMessageDelivery on sqs
deliveries) against a real `lambdaperm serve` with real boto3.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError

from lambdaperm.protocol.errors import ServiceError
from lambdaperm.services.lambda_.operations import OPERATIONS
from lambdaperm.services.lambda_.unserved_mapping_settings import refuse_unserved_mapping_settings
from lambdaperm.services.lambda_.unserved_settings import refuse_unserved_settings
from tests.e2e.conftest import Endpoint
from tests.e2e.lambda_helpers import HANDLER, make_role, zip_of

REGION = "us-east-1"
A = "131300000013"

OPERATIONS_TABLED = (
    "CreateFunction", "UpdateFunctionConfiguration", "UpdateFunctionCode", "CreateEventSourceMapping",
    "UpdateEventSourceMapping", "CreateFunctionUrlConfig", "UpdateFunctionUrlConfig", "PutFunctionEventInvokeConfig",
    "UpdateFunctionEventInvokeConfig", "PutFunctionConcurrency", "PutProvisionedConcurrencyConfig",
    "PutRuntimeManagementConfig", "PutFunctionRecursionConfig", "PutFunctionScalingConfig",
    "PutFunctionCodeSigningConfig", "CreateAlias", "UpdateAlias", "PublishVersion",
)  # fmt: skip

# Operations storing a setting Lambda acts on, not served by lambdaperm: refused to everyone (owner_only.py's note).
UNSERVED_OPERATIONS = {
    "PutFunctionEventInvokeConfig": "retries, event age and destinations of asynchronous invocations",
    "UpdateFunctionEventInvokeConfig": "the same",
    "PutFunctionConcurrency": "reserved concurrency",
    "PutProvisionedConcurrencyConfig": "provisioned concurrency (initialised environments, run as the role)",
    "PutRuntimeManagementConfig": "runtime version pinning",
    "PutFunctionRecursionConfig": "recursive loop detection (Allow would let a loop run)",
    "PutFunctionScalingConfig": "execution environments on a capacity provider",
    "PutFunctionCodeSigningConfig": "code signing (Lambda checks each new package against the signing profiles)",
}

# (class, where or why), per top-level member; its nested member paths follow, each one listed so that a new one
# fails the table. Classes: performed, decided, refused:<module>, unserved, inert.
_FN = "refused:unserved_settings"
_ESM = "refused:unserved_mapping_settings"
_STREAM = "inert: a stream or broker source is refused (undelivered.refuse_unpolled_source 501, or 'Unrecognized event source'); SQS polling does not read it"  # noqa: E501
ROWS: dict[str, tuple[str, tuple[str, ...]]] = {
    # identity of what is written
    "FunctionName": ("decided: the function ARN every decision names", ()),
    "Qualifier": ("decided: the qualified ARN (aliases only for URLs, round 5 of region/account)", ()),
    "Name": ("decided: the alias ARN", ()),
    "UUID": ("decided: the event-source-mapping ARN in the caller's account and region", ()),
    "RevisionId": ("performed: a precondition, PreconditionFailedException", ()),
    "DryRun": ("performed: validated and decided, nothing stored (UpdateFunctionCode)", ()),
    # the function
    "Role": ("decided: iam:PassRole, the trust policy, cross-account refused (operations.PRECHECKS, roles.py)", ()),
    "Runtime": ("performed: config.RUNTIMES", ()),
    "Handler": ("performed", ()),
    "Description": ("performed", ()),
    "Timeout": ("performed: the sandbox's deadline", ()),
    "MemorySize": ("performed: the sandbox's memory budget", ()),
    "Environment": ("performed: reserved keys refused, 4 KB", ("Variables",)),
    "Code": (
        "decided: S3Bucket/S3Key/S3ObjectVersion read as the caller (code_source.code_from_s3, s3:GetObject"
        "[Version]); ZipFile performed; ImageUri refused (Zip only); SourceKMSKeyArn " + _FN,
        ("ImageUri", "S3Bucket", "S3Key", "S3ObjectVersion", "SourceKMSKeyArn", "ZipFile"),
    ),
    "ZipFile": ("performed (UpdateFunctionCode)", ()),
    "S3Bucket": ("decided: read as the caller, code_source.code_from_s3 (UpdateFunctionCode)", ()),
    "S3Key": ("decided: as S3Bucket", ()),
    "S3ObjectVersion": ("decided: as S3Bucket", ()),
    "ImageUri": ("refused: functions.py 'lambdaperm runs Zip packages only' (container images: ECR pulls)", ()),
    "SourceKMSKeyArn": (_FN, ()),
    "PackageType": ("inert: an Image package needs ImageUri, refused; Zip is what lambdaperm runs", ()),
    "ImageConfig": (
        "inert: applies to container images only, refused",
        ("Command", "EntryPoint", "WorkingDirectory"),
    ),
    "Architectures": ("inert: which CPU runs the code; reaches no resource (answered x86_64, fidelity)", ()),
    "Publish": ("performed: PublishVersion in the same transaction", ()),
    "PublishTo": ("inert: LATEST_PUBLISHED belongs to capacity-provider functions, CapacityProviderConfig refused", ()),
    "CodeSha256": ("performed: PublishVersion's precondition", ()),
    "VpcConfig": (
        "decided: the role's ec2 ENI calls (functions._vpc), lambda:VpcIds/SubnetIds/SecurityGroupIds; "
        "Ipv6AllowedForDualStack stored (no network is attached: inert)",
        ("Ipv6AllowedForDualStack", "SecurityGroupIds", "SubnetIds"),
    ),
    "DeadLetterConfig": (
        "decided then refused: the role's sqs:SendMessage/sns:Publish decided, then 501 (undelivered.py)",
        ("TargetArn",),
    ),
    "KMSKeyArn": (_FN + " (functions) and " + _ESM + " (mappings)", ()),
    "TracingConfig": (_FN + " (Active; PassThrough is what lambdaperm does)", ("Mode",)),
    "Tags": ("performed on functions (lambda:TagResource decided on create); " + _ESM + " on mappings", ()),
    "Layers": (_FN, ()),
    "FileSystemConfigs": (_FN, ("[].Arn", "[].LocalMountPath")),
    "CodeSigningConfigArn": (_FN, ()),
    "EphemeralStorage": (_FN + " (other than 512)", ("Size",)),
    "SnapStart": (_FN + " (PublishedVersions)", ("ApplyOn",)),
    "LoggingConfig": (
        "LogGroup other than /aws/lambda/<name> " + _FN + "; LogFormat/ApplicationLogLevel/SystemLogLevel inert: "
        "they shape and filter lines written to the function's own group, reaching nothing else (fidelity); on a "
        "mapping (SystemLogLevel) inert: the poller's own logs, a broker source only",
        ("ApplicationLogLevel", "LogFormat", "LogGroup", "SystemLogLevel"),
    ),
    "CapacityProviderConfig": (
        _FN,
        (
            "LambdaManagedInstancesCapacityProviderConfig",
            "LambdaManagedInstancesCapacityProviderConfig.CapacityProviderArn",
            "LambdaManagedInstancesCapacityProviderConfig.ExecutionEnvironmentMemoryGiBPerVCpu",
            "LambdaManagedInstancesCapacityProviderConfig.PerExecutionEnvironmentMaxConcurrency",
        ),
    ),
    "DurableConfig": (_FN, ("ExecutionTimeout", "RetentionPeriodInDays")),
    "TenancyConfig": (_FN, ("TenantIsolationMode",)),
    # aliases and versions
    "FunctionVersion": ("decided: the alias points at a version of the decided function", ()),
    "RoutingConfig": ("performed: weighted routing at Invoke (round 11 of persistence)", ("AdditionalVersionWeights",)),
    # event source mappings
    "EventSourceArn": (
        "decided: the role's polling calls decided as AWS decides them (mappings._check_role); an SQS source is an "
        "aws queue ARN (sqs_source_arns), in the function's region; streams 501 (undelivered)",
        (),
    ),
    "Enabled": ("performed: the poller skips a Disabled mapping (gateway/events)", ()),
    "BatchSize": ("performed: the poller's ReceiveMessage MaxNumberOfMessages", ()),
    "MaximumBatchingWindowInSeconds": ("inert: how long Lambda waits to fill a batch; reaches nothing (timing)", ()),
    "FunctionResponseTypes": ("performed: ReportBatchItemFailures (gateway/batch_item_failures)", ()),
    "FilterCriteria": (_ESM, ("Filters", "Filters[].Pattern")),
    "ScalingConfig": (_ESM, ("MaximumConcurrency",)),
    "ProvisionedPollerConfig": (_ESM, ("MaximumPollers", "MinimumPollers", "PollerGroupName")),
    "DestinationConfig": (
        _ESM + " (mappings); unserved (Put/UpdateFunctionEventInvokeConfig)",
        ("OnFailure", "OnFailure.Destination", "OnSuccess", "OnSuccess.Destination"),
    ),
    "MetricsConfig": (
        "inert: metrics Lambda emits to the owner's CloudWatch, no resource of the caller's",
        ("Metrics",),
    ),
    "ParallelizationFactor": (_STREAM, ()),
    "StartingPosition": (_STREAM, ()),
    "StartingPositionTimestamp": (_STREAM, ()),
    "MaximumRecordAgeInSeconds": (_STREAM, ()),
    "BisectBatchOnFunctionError": (_STREAM, ()),
    "MaximumRetryAttempts": (_STREAM + "; unserved on EventInvokeConfig", ()),
    "TumblingWindowInSeconds": (_STREAM, ()),
    "Topics": (_STREAM + " (Kafka)", ()),
    "Queues": (_STREAM + " (Amazon MQ)", ()),
    "SourceAccessConfigurations": (_STREAM + " (broker secrets, VPC)", ("[].Type", "[].URI")),
    "SelfManagedEventSource": (_STREAM + " (self-managed Kafka)", ("Endpoints",)),
    "AmazonManagedKafkaEventSourceConfig": (_STREAM + " (MSK)", ()),
    "SelfManagedKafkaEventSourceConfig": (_STREAM + " (Kafka)", ()),
    "DocumentDBEventSourceConfig": (_STREAM + " (DocumentDB)", ("CollectionName", "DatabaseName", "FullDocument")),
    # function URLs
    "AuthType": ("decided: lambda:FunctionUrlAuthType; AWS_IAM signed calls decided at the URL", ()),
    "Cors": (
        "inert: a browser-enforced grant; lambdaperm adds no CORS header, so a browser refuses every cross-origin "
        "read (fail closed; fidelity)",
        ("AllowCredentials", "AllowHeaders", "AllowMethods", "AllowOrigins", "ExposeHeaders", "MaxAge"),
    ),
    "InvokeMode": ("inert: RESPONSE_STREAM is answered buffered; the same caller, the same response (fidelity)", ()),
    # unserved operations' own members
    "MaximumEventAgeInSeconds": ("unserved", ()),
    "ReservedConcurrentExecutions": ("unserved", ()),
    "ProvisionedConcurrentExecutions": ("unserved", ()),
    "UpdateRuntimeOn": ("unserved", ()),
    "RuntimeVersionArn": ("unserved", ()),
    "RecursiveLoop": ("unserved", ()),
    "FunctionScalingConfig": ("unserved", ("MaxExecutionEnvironments", "MinExecutionEnvironments")),
}
_KAFKA_NESTED = (
    "ConsumerGroupId", "SchemaRegistryConfig", "SchemaRegistryConfig.AccessConfigs",
    "SchemaRegistryConfig.AccessConfigs[].Type", "SchemaRegistryConfig.AccessConfigs[].URI",
    "SchemaRegistryConfig.EventRecordFormat", "SchemaRegistryConfig.SchemaRegistryURI",
    "SchemaRegistryConfig.SchemaValidationConfigs", "SchemaRegistryConfig.SchemaValidationConfigs[].Attribute",
)  # fmt: skip
for _kafka in ("AmazonManagedKafkaEventSourceConfig", "SelfManagedKafkaEventSourceConfig"):
    ROWS[_kafka] = (ROWS[_kafka][0], _KAFKA_NESTED)


def _nested(shape: Any, prefix: str, out: list[str]) -> None:
    if shape.type_name == "structure":
        for name, member in shape.members.items():
            path = f"{prefix}.{name}" if prefix else name
            out.append(path)
            _nested(member, path, out)
    elif shape.type_name == "list":
        _nested(shape.member, prefix + "[]", out)


def test_every_lambda_setting_member_is_classified() -> None:
    """Every member of every tabled operation, nested included, has a row; no row is stale."""
    model = botocore.session.get_session().get_service_model("lambda")
    seen: dict[str, set[str]] = {}
    for operation in OPERATIONS_TABLED:
        for name, shape in model.operation_model(operation).input_shape.members.items():
            found: list[str] = []
            _nested(shape, "", found)
            seen.setdefault(name, set()).update(found)
    assert set(seen) == set(ROWS), (sorted(set(seen) - set(ROWS)), sorted(set(ROWS) - set(seen)))
    for name, paths in seen.items():
        assert paths == set(ROWS[name][1]), (name, sorted(paths ^ set(ROWS[name][1])))


def test_unserved_operations_are_not_served() -> None:
    """Every operation the table calls unserved is absent from the operation table, and every tabled operation
    absent from it is listed as unserved (a later served one must be re-tabled)."""
    absent = {op for op in OPERATIONS_TABLED if op not in OPERATIONS}
    assert absent == set(UNSERVED_OPERATIONS)


REFUSED_FUNCTION_PROBES: dict[str, dict[str, Any]] = {
    "CodeSigningConfigArn": {"CodeSigningConfigArn": "arn:aws:lambda:us-east-1:1:code-signing-config:csc-1"},
    "Layers": {"Layers": ["arn:aws:lambda:us-east-1:1:layer:l:1"]},
    "KMSKeyArn": {"KMSKeyArn": "arn:aws:kms:us-east-1:1:key/k"},
    "FileSystemConfigs": {"FileSystemConfigs": [{"Arn": "arn:aws:elasticfilesystem:x", "LocalMountPath": "/mnt/x"}]},
    "LoggingConfig.LogGroup": {"LoggingConfig": {"LogGroup": "/other"}},
    "TracingConfig.Mode": {"TracingConfig": {"Mode": "Active"}},
    "SnapStart.ApplyOn": {"SnapStart": {"ApplyOn": "PublishedVersions"}},
    "EphemeralStorage.Size": {"EphemeralStorage": {"Size": 1024}},
    "SourceKMSKeyArn": {"Code": {"SourceKMSKeyArn": "arn:aws:kms:us-east-1:1:key/k"}},
    "CapacityProviderConfig": {
        "CapacityProviderConfig": {"LambdaManagedInstancesCapacityProviderConfig": {"CapacityProviderArn": "x"}}
    },
    "TenancyConfig": {"TenancyConfig": {"TenantIsolationMode": "PER_TENANT"}},
    "DurableConfig": {"DurableConfig": {"ExecutionTimeout": 60}},
}
REFUSED_MAPPING_PROBES: dict[str, dict[str, Any]] = {
    "FilterCriteria": {"FilterCriteria": {"Filters": [{"Pattern": "{}"}]}},
    "KMSKeyArn": {"KMSKeyArn": "arn:aws:kms:us-east-1:1:key/k"},
    "ScalingConfig": {"ScalingConfig": {"MaximumConcurrency": 2}},
    "ProvisionedPollerConfig": {"ProvisionedPollerConfig": {"MinimumPollers": 1}},
    "DestinationConfig": {"DestinationConfig": {"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:1:q"}}},
    "Tags": {"Tags": {"k": "v"}},
}


@pytest.mark.parametrize("setting", sorted(REFUSED_FUNCTION_PROBES))
def test_a_refused_function_row_is_refused_by_its_module(setting: str) -> None:
    with pytest.raises(ServiceError) as refused:
        refuse_unserved_settings(REFUSED_FUNCTION_PROBES[setting], "f")
    assert refused.value.status == 501 and setting.split(".")[0] in str(refused.value), refused.value
    refuse_unserved_settings({}, "f")  # nothing asked: served


@pytest.mark.parametrize("setting", sorted(REFUSED_MAPPING_PROBES))
def test_a_refused_mapping_row_is_refused_by_its_module(setting: str) -> None:
    with pytest.raises(ServiceError) as refused:
        refuse_unserved_mapping_settings(REFUSED_MAPPING_PROBES[setting])
    assert refused.value.status == 501 and setting in str(refused.value), refused.value


UNSERVED_PROBES: dict[str, dict[str, Any]] = {
    "put_function_event_invoke_config": {
        "MaximumRetryAttempts": 0,
        "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:131300000013:q"}},
    },
    "put_function_concurrency": {"ReservedConcurrentExecutions": 0},
    "put_provisioned_concurrency_config": {"Qualifier": "live", "ProvisionedConcurrentExecutions": 1},
    "put_runtime_management_config": {
        "UpdateRuntimeOn": "Manual",
        "RuntimeVersionArn": "arn:aws:lambda:us-east-1::runtime:0123456789abcdef",
    },
    "put_function_recursion_config": {"RecursiveLoop": "Allow"},
    "put_function_code_signing_config": {
        "CodeSigningConfigArn": "arn:aws:lambda:us-east-1:131300000013:code-signing-config:csc-0123456789abcdef0"
    },
}


def _error(call: Callable[[], Any]) -> tuple[int, dict[str, Any]]:
    with pytest.raises(ClientError) as refused:
        call()
    return refused.value.response["ResponseMetadata"]["HTTPStatusCode"], refused.value.response["Error"]


def test_unserved_setting_operations_are_refused_even_to_the_owner(server: Endpoint) -> None:
    """The owner's root calls each unserved Put* on its own function: 400 InvalidAction (the operation is not
    served), and the function's configuration is unchanged — nothing stored that lambdaperm would not act on:
    reserved concurrency 0 (Lambda then throttles every invocation), an asynchronous destination (Lambda sends the
    event record there with the execution role), RecursiveLoop Allow, a code signing configuration
    (https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionConcurrency.html,
    https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html,
    https://docs.aws.amazon.com/lambda/latest/dg/invocation-recursion.html)."""
    lam = server.client("lambda", key=A, region=REGION)
    role = make_role(server.client("iam", key=A), "r13-exec")
    lam.create_function(
        FunctionName="r13-f", Runtime="python3.12", Role=role, Handler="app.handler",
        Code={"ZipFile": zip_of({"app.py": HANDLER})}, Publish=True,
    )  # fmt: skip
    before = lam.get_function_configuration(FunctionName="r13-f")
    for method, params in UNSERVED_PROBES.items():
        status, error = _error(lambda m=method, p=params: getattr(lam, m)(FunctionName="r13-f", **p))
        assert (status, error["Code"]) == (400, "InvalidAction"), (method, error)
    after = lam.get_function_configuration(FunctionName="r13-f")
    assert {k: v for k, v in after.items() if k != "ResponseMetadata"} == {
        k: v for k, v in before.items() if k != "ResponseMetadata"
    }


# --- SNS subscription attributes on sqs deliveries (round 12 read them in moto's code; played here) --------------


def _inbox(server: Endpoint, name: str, topic: str) -> tuple[str, str]:
    sqs = server.client("sqs", key=A)
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = f"arn:aws:sqs:{REGION}:{A}:{name}"
    allow = {
        "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
        "Resource": arn, "Condition": {"ArnEquals": {"aws:SourceArn": topic}},
    }  # fmt: skip
    sqs.set_queue_attributes(
        QueueUrl=url, Attributes={"Policy": json.dumps({"Version": "2012-10-17", "Statement": [allow]})}
    )
    return url, arn


def _bodies(server: Endpoint, url: str, want: int, timeout: float = 10) -> list[str]:
    """Every body of the queue, read until `want` arrived (bounded) and then until it is empty."""
    sqs = server.client("sqs", key=A)
    out: list[str] = []
    deadline = time.monotonic() + timeout
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        for m in got:
            out.append(m["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        if not got and (len(out) >= want or time.monotonic() > deadline):
            return out
        if not got:
            time.sleep(0.1)


def test_a_message_body_filter_policy_and_raw_delivery_apply_to_sqs_deliveries(server: Endpoint) -> None:
    """The attack: a subscriber narrows what reaches its queue with a filter policy on the message body
    (FilterPolicyScope MessageBody) and asks for the raw body; if either were dropped, every message (others'
    data the filter keeps out) would reach the queue, wrapped. SNS: "the filter policy is applied on the message
    body" with scope MessageBody (https://docs.aws.amazon.com/sns/latest/dg/sns-message-filtering-scope.html);
    with RawMessageDelivery the body is delivered as published
    (https://docs.aws.amazon.com/sns/latest/dg/sns-large-payload-raw-message-delivery.html). The same filter on
    the attributes scope (the default) filters on the message attributes, not the body."""
    sns = server.client("sns", key=A)
    topic = sns.create_topic(Name="r13-orders")["TopicArn"]
    body_url, body_arn = _inbox(server, "r13-by-body", topic)
    attr_url, attr_arn = _inbox(server, "r13-by-attribute", topic)
    kept = json.dumps({"kind": ["keep"]})
    sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=body_arn,
        Attributes={"FilterPolicyScope": "MessageBody", "FilterPolicy": kept, "RawMessageDelivery": "true"},
    )  # fmt: skip
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=attr_arn, Attributes={"FilterPolicy": kept})
    keep = json.dumps({"kind": "keep", "n": 1})
    drop = json.dumps({"kind": "drop", "n": 2})
    sns.publish(TopicArn=topic, Message=keep, MessageAttributes={"kind": {"DataType": "String", "StringValue": "drop"}})
    sns.publish(TopicArn=topic, Message=drop, MessageAttributes={"kind": {"DataType": "String", "StringValue": "keep"}})
    assert _bodies(server, body_url, 1) == [keep]  # the body filter, the raw body
    assert [json.loads(b)["Message"] for b in _bodies(server, attr_url, 1)] == [drop]  # the attribute filter


# --- a row the table proves only by reading: Enabled -------------------------------------------------------------


def _drained(sqs: Any, url: str, timeout: float = 30) -> bool:
    """Whether the queue's messages are all gone (received and deleted by the poller) within `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        if attrs["ApproximateNumberOfMessages"] == "0" and attrs["ApproximateNumberOfMessagesNotVisible"] == "0":
            return True
        time.sleep(0.2)
    return False


def test_a_disabled_mapping_does_not_read_its_queue(server: Endpoint) -> None:
    """The attack: a mapping created (or updated) with Enabled false must not poll — Lambda "pauses polling"
    (https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html, `Enabled`); a poller that
    ignored the flag would receive and delete the queue's messages with the execution role, on behalf of nobody.
    Signal: two messages of an enabled mapping on another queue, sent one after the other, are consumed — so a
    whole polling pass ran after the disabled queue's message was sent — and that message is still there, visible
    and never received; enabling the mapping (positive control) consumes it."""
    lam = server.client("lambda", key=A, region=REGION)
    sqs = server.client("sqs", key=A)
    role = make_role(
        server.client("iam", key=A),
        "r13-poller",
        managed=["arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole"],
    )
    lam.create_function(
        FunctionName="r13-consumer", Runtime="python3.12", Role=role, Handler="app.handler",
        Code={"ZipFile": zip_of({"app.py": HANDLER})},
    )  # fmt: skip
    paused = sqs.create_queue(QueueName="r13-paused")["QueueUrl"]
    live = sqs.create_queue(QueueName="r13-live")["QueueUrl"]
    mapping = lam.create_event_source_mapping(
        FunctionName="r13-consumer", EventSourceArn=f"arn:aws:sqs:{REGION}:{A}:r13-paused", Enabled=False
    )
    lam.create_event_source_mapping(FunctionName="r13-consumer", EventSourceArn=f"arn:aws:sqs:{REGION}:{A}:r13-live")
    sqs.send_message(QueueUrl=paused, MessageBody="not yet")
    for n in range(2):
        sqs.send_message(QueueUrl=live, MessageBody=f"tick {n}")
        assert _drained(sqs, live), "the enabled mapping never consumed its queue"
    attrs = sqs.get_queue_attributes(QueueUrl=paused, AttributeNames=["All"])["Attributes"]
    assert (attrs["ApproximateNumberOfMessages"], attrs["ApproximateNumberOfMessagesNotVisible"]) == ("1", "0")
    lam.update_event_source_mapping(UUID=mapping["UUID"], Enabled=True)
    assert _drained(sqs, paused), "the mapping, enabled, never consumed its queue"
