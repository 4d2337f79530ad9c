"""Quirks as data: JSON services that still speak the query protocol (`awsQueryCompatible`).

SQS moved to JSON (AWS JSON 1.0) in 2023; older SDKs (boto3 before 1.34.x, the Java SDK v1, many Lambda
runtimes' bundled SDKs) still send `Action=SendMessage&MessageAttribute.1.Name=…` and parse
`<SendMessageResponse>` XML. botocore's current SQS model dropped the query names, so they are kept here
(from the pre-2023 query model). JSON answers carry the old code in `x-amzn-query-error: Code;Sender`.
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-json-faqs.html
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from lambdaperm.protocol.naming import Naming


@dataclass(frozen=True, slots=True)
class QueryDialect:
    xml_namespace: str
    naming: Naming
    error_codes: Mapping[str, str]  # error shape name → the query protocol's code
    path_member: str | None  # the member a request path like /<account>/<queue> stands for


_SQS_NAMING = Naming(
    members={
        ("CreateQueueRequest", "Attributes"): "Attribute",
        ("CreateQueueRequest", "tags"): "Tag",
        ("GetQueueAttributesResult", "Attributes"): "Attribute",
        ("SetQueueAttributesRequest", "Attributes"): "Attribute",
        ("ListQueueTagsResult", "Tags"): "Tag",
        ("TagQueueRequest", "Tags"): "Tag",
        ("Message", "Attributes"): "Attribute",
        ("Message", "MessageAttributes"): "MessageAttribute",
        ("SendMessageRequest", "MessageAttributes"): "MessageAttribute",
        ("SendMessageRequest", "MessageSystemAttributes"): "MessageSystemAttribute",
        ("SendMessageBatchRequestEntry", "MessageAttributes"): "MessageAttribute",
        ("SendMessageBatchRequestEntry", "MessageSystemAttributes"): "MessageSystemAttribute",
    },
    list_items={
        "AWSAccountIdList": "AWSAccountId",
        "ActionNameList": "ActionName",
        "AttributeNameList": "AttributeName",
        "MessageAttributeNameList": "MessageAttributeName",
        "MessageSystemAttributeList": "MessageSystemAttributeName",
        "QueueUrlList": "QueueUrl",
        "MessageList": "Message",
        "StringList": "StringListValue",
        "BinaryList": "BinaryListValue",
        "TagKeyList": "TagKey",
        "BatchResultErrorEntryList": "BatchResultErrorEntry",
        "SendMessageBatchRequestEntryList": "SendMessageBatchRequestEntry",
        "SendMessageBatchResultEntryList": "SendMessageBatchResultEntry",
        "DeleteMessageBatchRequestEntryList": "DeleteMessageBatchRequestEntry",
        "DeleteMessageBatchResultEntryList": "DeleteMessageBatchResultEntry",
        "ChangeMessageVisibilityBatchRequestEntryList": "ChangeMessageVisibilityBatchRequestEntry",
        "ChangeMessageVisibilityBatchResultEntryList": "ChangeMessageVisibilityBatchResultEntry",
        "ListMessageMoveTasksResultEntryList": "ListMessageMoveTasksResultEntry",
    },
    map_entries={"TagMap": ("Key", "Value")},
    default_map_entry=("Name", "Value"),
)

_SQS_ERROR_CODES = {
    "QueueDoesNotExist": "AWS.SimpleQueueService.NonExistentQueue",
    "QueueDeletedRecently": "AWS.SimpleQueueService.QueueDeletedRecently",
    "QueueNameExists": "QueueAlreadyExists",
    "PurgeQueueInProgress": "AWS.SimpleQueueService.PurgeQueueInProgress",
    "MessageNotInflight": "AWS.SimpleQueueService.MessageNotInflight",
    "BatchEntryIdsNotDistinct": "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
    "BatchRequestTooLong": "AWS.SimpleQueueService.BatchRequestTooLong",
    "EmptyBatchRequest": "AWS.SimpleQueueService.EmptyBatchRequest",
    "InvalidBatchEntryId": "AWS.SimpleQueueService.InvalidBatchEntryId",
    "TooManyEntriesInBatchRequest": "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
    "UnsupportedOperation": "AWS.SimpleQueueService.UnsupportedOperation",
}

_DIALECTS: Mapping[str, QueryDialect] = {
    "sqs": QueryDialect(
        xml_namespace="http://queue.amazonaws.com/doc/2012-11-05/",
        naming=_SQS_NAMING,
        error_codes=_SQS_ERROR_CODES,
        path_member="QueueUrl",
    ),
}


def query_dialect(service_name: str) -> QueryDialect | None:
    """The query dialect of a query-compatible JSON service (None: the model's own names apply)."""
    return _DIALECTS.get(service_name)


def legacy_code(service_name: str, shape_name: str) -> str:
    """The query protocol's code for an error shape (`QueueDoesNotExist` →
    `AWS.SimpleQueueService.NonExistentQueue`); the shape name when it has none."""
    dialect = _DIALECTS.get(service_name)
    if dialect is None:
        return shape_name
    return dialect.error_codes.get(shape_name, shape_name)


def shape_for_legacy_code(service_name: str, code: str) -> str | None:
    dialect = _DIALECTS.get(service_name)
    if dialect is None:
        return None
    for shape_name, legacy in dialect.error_codes.items():
        if legacy == code:
            return shape_name
    return None
