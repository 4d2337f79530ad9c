"""The CloudTrail record of one call (spec §5): who, what, with which parameters, and how it ended."""

from __future__ import annotations

import base64
import re
from datetime import datetime
from typing import Any

from lambdaperm.policy import PrincipalKind
from lambdaperm.state.identity import Identity
from lambdaperm.trail import build_record, event_source_for, user_identity
from lambdaperm.trail.event_names import event_name

# Data events (CloudTrail logs them only with data-event selectors; LookupEvents never returns them).
DATA_EVENTS = {
    "s3": {"GetObject", "PutObject", "DeleteObject", "DeleteObjects", "HeadObject", "CopyObject",
           "ListObjects", "ListObjectsV2", "ListObjectVersions", "CreateMultipartUpload", "UploadPart",
           "CompleteMultipartUpload", "AbortMultipartUpload", "GetObjectTagging", "PutObjectTagging",
           "GetObjectAcl", "PutObjectAcl"},
    "dynamodb": {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem",
                 "BatchWriteItem", "TransactGetItems", "TransactWriteItems"},
    "lambda": {"Invoke", "InvokeAsync", "InvokeWithResponseStream"},
    "sqs": {"SendMessage", "SendMessageBatch", "ReceiveMessage", "DeleteMessage", "DeleteMessageBatch",
            "ChangeMessageVisibility", "ChangeMessageVisibilityBatch"},
    "sns": {"Publish", "PublishBatch"},
}
_READ_ONLY = re.compile(r"^(Get|List|Describe|Head|Lookup|Simulate|Check|Validate|Search|Scan|Query|BatchGet)")
_SECRET_FIELDS = {"SecretAccessKey", "Password", "NewPassword", "OldPassword", "ZipFile"}
# (service, ARN resource-type prefix) -> CloudFormation-style resource type CloudTrail uses
_RESOURCE_TYPES = {
    ("iam", "role"): "AWS::IAM::Role", ("iam", "user"): "AWS::IAM::User", ("iam", "group"): "AWS::IAM::Group",
    ("iam", "policy"): "AWS::IAM::Policy", ("lambda", "function"): "AWS::Lambda::Function",
    ("dynamodb", "table"): "AWS::DynamoDB::Table", ("s3", ""): "AWS::S3::Object",
    ("sqs", ""): "AWS::SQS::Queue", ("sns", ""): "AWS::SNS::Topic", ("logs", "log-group"): "AWS::Logs::LogGroup",
}


def is_read_only(operation: str) -> bool:
    return _READ_ONLY.match(operation) is not None


def category(service: str, operation: str) -> str:
    return "Data" if operation in DATA_EVENTS.get(service, ()) else "Management"


def _camel(key: str) -> str:
    return key[:1].lower() + key[1:] if key else key


def sanitize(value: Any) -> Any:
    """JSON-safe, camel-cased, secrets and payload bytes left out (as CloudTrail does)."""
    if isinstance(value, dict):
        return {_camel(k): sanitize(v) for k, v in value.items() if k not in _SECRET_FIELDS}
    if isinstance(value, list):
        return [sanitize(v) for v in value]
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, bytes | bytearray):
        return None if len(value) > 256 else base64.b64encode(bytes(value)).decode()
    if hasattr(value, "read"):
        return None
    return value


def resource_entries(arns: list[str]) -> list[dict[str, str]]:
    out = []
    for arn in dict.fromkeys(arns):
        parts = arn.split(":", 5)
        if len(parts) != 6:
            continue
        service, account, rest = parts[2], parts[4], parts[5]
        kind = re.split(r"[/:]", rest, maxsplit=1)[0] if service not in ("s3", "sqs", "sns") else ""
        rtype = _RESOURCE_TYPES.get((service, kind))
        if service == "s3" and "/" not in rest:
            rtype = "AWS::S3::Bucket"
        if rtype:
            out.append({"accountId": account, "type": rtype, "ARN": arn})
    return out


def identity_block(identity: Identity) -> dict[str, Any]:
    caller = identity.caller
    match caller.kind:
        case PrincipalKind.USER:
            return user_identity(kind="IAMUser", arn=caller.arn, account_id=caller.account,
                                 principal_id=identity.principal_id, access_key_id=identity.access_key_id,
                                 user_name=caller.name)
        case PrincipalKind.ASSUMED_ROLE:
            issuer = {"type": "Role", "principalId": identity.role_id or "", "arn": caller.role_arn,
                      "accountId": caller.account, "userName": identity.role_name or caller.name}
            return user_identity(kind="AssumedRole", arn=caller.arn, account_id=caller.account,
                                 principal_id=identity.principal_id, access_key_id=identity.access_key_id,
                                 session_issuer=issuer, session_created=identity.session_created,
                                 mfa_authenticated=identity.mfa)
        case PrincipalKind.ROOT:
            return user_identity(kind="Root", arn=caller.arn, account_id=caller.account,
                                 principal_id=caller.account, access_key_id=identity.access_key_id)
        case PrincipalKind.SERVICE:
            return user_identity(kind="AWSService", arn="", account_id="", principal_id="",
                                 invoked_by=caller.name)
        case _:
            return user_identity(kind="Anonymous", arn="", account_id="", principal_id="")


def record(
    *, identity: Identity, service: str, operation: str, region: str, now: datetime, request_id: str,
    source_ip: str, user_agent: str, params: dict[str, Any] | None, output: dict[str, Any] | None,
    error: tuple[str, str] | None, resources: list[str], recipient: str,
) -> dict[str, Any]:
    read_only = is_read_only(operation)
    return build_record(
        event_time=now, user_identity=identity_block(identity), event_source=event_source_for(service),
        event_name=event_name(service, operation), region=region, source_ip=source_ip, user_agent=user_agent,
        request_parameters=sanitize(params) if params else None,
        response_elements=sanitize(output) if (output and not read_only and error is None) else None,
        request_id=request_id, error_code=error[0] if error else None,
        error_message=error[1] if error else None, read_only=read_only,
        resources=resource_entries(resources), category=category(service, operation),
        recipient_account=recipient,
    )
