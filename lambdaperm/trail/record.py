"""One CloudTrail record (eventVersion 1.11) in the real format, keys in the order AWS emits them.

https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html

The order, as in AWS's published 1.08–1.11 records: eventVersion, userIdentity, eventTime, eventSource,
eventName, awsRegion, sourceIPAddress, userAgent, errorCode, errorMessage, requestParameters,
responseElements, additionalEventData, requestID, eventID, readOnly, resources, eventType,
managementEvent, recipientAccountId, sharedEventID, vpcEndpointId, vpcEndpointAccountId, eventCategory,
tlsDetails. Optional fields appear only when they apply: errorCode/errorMessage on failures only,
sharedEventID only when the event went to several accounts, tlsDetails only for HTTPS requests.
`responseElements` is null for read-only calls and for failures; `requestParameters` may be null.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from .errors import TrailError
from .identity import iso_seconds

EVENT_VERSION = "1.11"
EVENT_CATEGORIES: tuple[str, ...] = ("Management", "Data", "NetworkActivity")
EVENT_TYPES: tuple[str, ...] = (
    "AwsApiCall", "AwsServiceEvent", "AwsConsoleAction", "AwsConsoleSignIn", "AwsVpceEvent",
)
_RESOURCE_KEYS = ("accountId", "type", "ARN")
_TLS_KEYS = ("tlsVersion", "cipherSuite", "clientProvidedHostHeader")

# botocore service name -> eventSource. As data, not as string surgery: some services log under a
# name that is not their endpoint prefix (e.g. CloudWatch Events logs as events.amazonaws.com).
EVENT_SOURCES: dict[str, str] = {
    "iam": "iam.amazonaws.com",
    "sts": "sts.amazonaws.com",
    "lambda": "lambda.amazonaws.com",
    "dynamodb": "dynamodb.amazonaws.com",
    "dynamodbstreams": "dynamodb.amazonaws.com",
    "s3": "s3.amazonaws.com",
    "sqs": "sqs.amazonaws.com",
    "sns": "sns.amazonaws.com",
    "logs": "logs.amazonaws.com",
    "ec2": "ec2.amazonaws.com",
    "cloudtrail": "cloudtrail.amazonaws.com",
    "accessanalyzer": "access-analyzer.amazonaws.com",
    "access-analyzer": "access-analyzer.amazonaws.com",
    "organizations": "organizations.amazonaws.com",
    "kms": "kms.amazonaws.com",
    "events": "events.amazonaws.com",
}


def event_source_for(service_name: str) -> str:
    """The `eventSource` of a service, by its botocore service name (or SigV4 signing name)."""
    try:
        return EVENT_SOURCES[service_name]
    except KeyError:
        raise TrailError(f"no eventSource is known for service {service_name!r}; "
                         f"known: {', '.join(sorted(EVENT_SOURCES))}") from None


def parse_event_time(text: str) -> datetime:
    """The aware UTC datetime of an `eventTime` string (`YYYY-MM-DDTHH:MM:SSZ`)."""
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except (TypeError, ValueError):
        raise TrailError(f"eventTime {text!r} is not of the form YYYY-MM-DDTHH:MM:SSZ") from None


def build_record(
    *,
    event_time: datetime,
    user_identity: Mapping[str, Any],
    event_source: str,
    event_name: str,
    region: str,
    source_ip: str,
    user_agent: str,
    request_parameters: Mapping[str, Any] | None,
    response_elements: Mapping[str, Any] | None,
    request_id: str,
    event_id: str | None = None,
    error_code: str | None = None,
    error_message: str | None = None,
    read_only: bool,
    resources: Sequence[Mapping[str, str]] | None = None,
    category: str = "Management",
    recipient_account: str,
    event_type: str = "AwsApiCall",
    additional_event_data: Mapping[str, Any] | None = None,
    vpc_endpoint_id: str | None = None,
    shared_event_id: str | None = None,
    vpc_endpoint_account_id: str | None = None,
    tls_details: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The record of one call, allowed or denied.

    `resources` entries are `{accountId, type, ARN}` (any order in, AWS's order out). `event_id` defaults
    to a fresh UUID. `tls_details` ({tlsVersion, cipherSuite, clientProvidedHostHeader}) is given only
    for HTTPS requests; plain HTTP records have no tlsDetails.
    """
    if category not in EVENT_CATEGORIES:
        raise TrailError(f"eventCategory {category!r} is not one of {', '.join(EVENT_CATEGORIES)}")
    if event_type not in EVENT_TYPES:
        raise TrailError(f"eventType {event_type!r} is not one of {', '.join(EVENT_TYPES)}")
    if error_message is not None and error_code is None:
        raise TrailError("errorMessage without errorCode: a failure needs its code")
    if not isinstance(read_only, bool):
        raise TrailError(f"readOnly must be a bool, not {type(read_only).__name__}")
    failed = error_code is not None
    record: dict[str, Any] = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": dict(user_identity),
        "eventTime": iso_seconds(event_time),
        "eventSource": event_source,
        "eventName": event_name,
        "awsRegion": region,
        "sourceIPAddress": source_ip,
        "userAgent": user_agent,
    }
    if failed:
        record["errorCode"] = error_code
        if error_message is not None:
            record["errorMessage"] = error_message
    record["requestParameters"] = None if request_parameters is None else dict(request_parameters)
    record["responseElements"] = (
        None if read_only or failed or response_elements is None else dict(response_elements))
    if additional_event_data is not None:
        record["additionalEventData"] = dict(additional_event_data)
    record["requestID"] = request_id
    record["eventID"] = event_id if event_id is not None else str(uuid.uuid4())
    record["readOnly"] = read_only
    if resources:
        record["resources"] = [_resource(r) for r in resources]
    record["eventType"] = event_type
    record["managementEvent"] = category == "Management"
    record["recipientAccountId"] = recipient_account
    if shared_event_id is not None:
        record["sharedEventID"] = shared_event_id
    if vpc_endpoint_id is not None:
        record["vpcEndpointId"] = vpc_endpoint_id
        if vpc_endpoint_account_id is not None:
            record["vpcEndpointAccountId"] = vpc_endpoint_account_id
    record["eventCategory"] = category
    if tls_details is not None:
        record["tlsDetails"] = {k: tls_details[k] for k in _TLS_KEYS if k in tls_details}
    return record


def _resource(entry: Mapping[str, str]) -> dict[str, str]:
    unknown = sorted(set(entry) - set(_RESOURCE_KEYS))
    if unknown or "type" not in entry or "ARN" not in entry:
        raise TrailError(f"a resources entry has accountId (optional), type and ARN; got {dict(entry)!r}")
    return {k: entry[k] for k in _RESOURCE_KEYS if k in entry}
