"""Event source mappings (spec §3.7): Lambda polls SQS, DynamoDB Streams and Kinesis with the execution
role, so the role (not a function policy) must allow the polling actions."""

from __future__ import annotations

import uuid
from typing import Any

from lambdaperm.catalog import RequiredAction

from ..context import Output, Params, RequestContext
from . import store
from .errors import access_denied, invalid, not_found
from .functions import ref_of
from .roles import assumable_role, calls, queue_url, role_account, role_allows
from .sqs_source_arns import check as check_sqs_source
from .undelivered import refuse_unpolled_source
from .unserved_mapping_settings import refuse_unserved_mapping_settings

MAPPING = "lambda.mapping"  # account "", key uuid -> {function account/region/name, config}
SQS_CALLS = ("ReceiveMessage", "DeleteMessage", "GetQueueAttributes")
STREAM_ACTIONS = {"dynamodb": ("dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:DescribeStream",
                               "dynamodb:ListStreams"),
                  "kinesis": ("kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStream",
                              "kinesis:ListStreams")}


def check_region(source: str, function_region: str) -> None:
    """The event source must be in the function's region: "The Lambda function and the Amazon SQS queue must be in
    the same AWS Region, although they can be in different AWS accounts"
    (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html); the same holds for Kinesis and
    DynamoDB streams. Lambda's answer (observed for a Kinesis stream, pmuens/serverless-kinesis-streams#1):
    InvalidParameterValueException "Event source region must match Lambda region <region>."."""
    parts = source.split(":")
    if len(parts) >= 6 and parts[3] != function_region:
        raise invalid(f"Event source region must match Lambda region {function_region}.")


def _check_role(ctx: RequestContext, role: dict[str, Any], source: str, function_name: str) -> None:
    """The execution role's session (named after the function, as the poller's) must be allowed what Lambda will do
    with the source, decided as those calls would be (resource policy, principal tags included)."""
    parts = source.split(":")
    service = parts[2] if len(parts) >= 6 and parts[0] == "arn" else ""
    if service == "sqs":
        for operation in SQS_CALLS:
            needed = calls(ctx, "sqs", operation, {"QueueUrl": queue_url(source)}, account=role_account(role),
                           region=ctx.region)
            if not role_allows(ctx, role, function_name, needed):
                raise invalid(f"The function execution role does not have permissions to call {operation} on SQS")
    elif service in STREAM_ACTIONS:
        # the stream APIs (dynamodbstreams, kinesis) are not served, so not in the catalog: their documented
        # resource is the stream ARN itself and they have no service-specific condition key to supply
        needed = [RequiredAction(a, (source,), {}) for a in STREAM_ACTIONS[service]]
        if not role_allows(ctx, role, function_name, needed):
            raise invalid(f"Cannot access stream {source}. Please ensure the role can perform the GetRecords, "
                          "GetShardIterator, DescribeStream, and ListStreams Actions on your stream in IAM.")
    else:
        raise invalid(f"Unrecognized event source, must be kinesis, dynamodb stream or sqs. Unsupported source "
                      f"arn : {source}")


def _out(m: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in m.items() if not k.startswith("_")}


def create_event_source_mapping(ctx: RequestContext, p: Params) -> Output:
    ref = ref_of(ctx, p)
    if ref.account != ctx.account:  # a mapping is created in the function's own account only
        raise access_denied(f"User: {ctx.identity.caller.arn} is not authorized to perform: "
                            f"lambda:CreateEventSourceMapping on resource: {ref.addressed_arn}")
    fn = store.load(ctx.records, ref)
    refuse_unserved_mapping_settings(p)  # filters, keys, scaling, destinations: not served (review round 8)
    version, _alias = store.resolve_qualifier(fn, ref)
    source = p.get("EventSourceArn") or ""
    check_region(source, fn["Region"])
    check_sqs_source(source)  # an SQS source is an aws queue ARN (region/account review round 14)
    role = assumable_role(ctx, store.config_of(fn, version)["Role"], fn["Arn"])
    _check_role(ctx, role, source, fn["Name"])
    refuse_unpolled_source(source)  # streams are decided as AWS decides them, then 501: only SQS is polled
    enabled = p.get("Enabled", True)
    mapping = {"UUID": str(uuid.uuid4()), "BatchSize": p.get("BatchSize") or 10,
               "MaximumBatchingWindowInSeconds": p.get("MaximumBatchingWindowInSeconds", 0),
               "EventSourceArn": source, "FunctionArn": ref.addressed_arn, "LastModified": ctx.now,
               "State": "Enabled" if enabled else "Disabled", "StateTransitionReason": "USER_INITIATED",
               "FunctionResponseTypes": p.get("FunctionResponseTypes") or [],
               "_Account": fn["Account"], "_Region": fn["Region"], "_Name": fn["Name"],
               "_Qualifier": ref.qualifier}
    if source.split(":")[2] != "sqs":
        mapping["StartingPosition"] = p.get("StartingPosition") or "LATEST"
    stored = dict(mapping, LastModified=ctx.now.isoformat())
    ctx.records.put(MAPPING, "", mapping["UUID"], stored)
    return _out(mapping)


def _load(ctx: RequestContext, uuid_: str) -> dict[str, Any]:
    """The mapping a UUID names in the caller's account AND the request's region: the call was decided on
    `arn:aws:lambda:<region>:<account>:event-source-mapping:<uuid>`, and a mapping lives in one region
    (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awslambda.html); region/account review
    round 5: a request signed for another region read, updated and deleted it past a Deny on its region."""
    found = ctx.records.get(MAPPING, "", uuid_)
    if found is None or found["_Account"] != ctx.account or found["_Region"] != ctx.region:
        raise not_found(f"The resource you requested does not exist. (Service: Lambda, Status Code: 404, "
                        f"Request ID: {ctx.request_id})")
    return found


def get_event_source_mapping(ctx: RequestContext, p: Params) -> Output:
    return _out(_load(ctx, p["UUID"]))


def list_event_source_mappings(ctx: RequestContext, p: Params) -> Output:
    items = [m for _, m in ctx.records.scan(MAPPING) if m["_Account"] == ctx.account and m["_Region"] == ctx.region]
    if p.get("FunctionName"):
        ref = ref_of(ctx, p, qualifier=False)
        items = [m for m in items if m["_Name"] == ref.name and m["_Account"] == ref.account]
    if p.get("EventSourceArn"):
        items = [m for m in items if m["EventSourceArn"] == p["EventSourceArn"]]
    return {"EventSourceMappings": [_out(m) for m in items]}


def delete_event_source_mapping(ctx: RequestContext, p: Params) -> Output:
    mapping = _load(ctx, p["UUID"])
    ctx.records.delete(MAPPING, "", mapping["UUID"])
    mapping["State"] = "Deleting"
    return _out(mapping)


def update_event_source_mapping(ctx: RequestContext, p: Params) -> Output:
    _load(ctx, p["UUID"])
    refuse_unserved_mapping_settings(p)  # filters, keys, scaling, destinations: not served (review round 8)
    target = _new_target(ctx, p, _load(ctx, p["UUID"])) if p.get("FunctionName") else None
    with ctx.records.db.transaction():
        mapping = _load(ctx, p["UUID"])
        if target is not None:  # the source of a mapping never changes: the checks made above still hold
            mapping.update(target)
        for key in ("BatchSize", "MaximumBatchingWindowInSeconds", "FunctionResponseTypes"):
            if key in p:
                mapping[key] = p[key]
        if "Enabled" in p:
            mapping["State"] = "Enabled" if p["Enabled"] else "Disabled"
        mapping["LastModified"] = ctx.now.isoformat()
        ctx.records.put(MAPPING, "", mapping["UUID"], mapping)
    return _out(mapping)


def _new_target(ctx: RequestContext, p: Params, mapping: dict[str, Any]) -> dict[str, Any]:
    """UpdateEventSourceMapping with FunctionName moves the mapping to that function: the same rules as at creation
    (the function's own account, the source's region, its execution role allowed to read the source)."""
    ref = ref_of(ctx, p)
    if ref.account != ctx.account:
        raise access_denied(f"User: {ctx.identity.caller.arn} is not authorized to perform: "
                            f"lambda:UpdateEventSourceMapping on resource: {ref.addressed_arn}")
    fn = store.load(ctx.records, ref)
    version, _alias = store.resolve_qualifier(fn, ref)
    source = mapping["EventSourceArn"]
    check_region(source, fn["Region"])
    role = assumable_role(ctx, store.config_of(fn, version)["Role"], fn["Arn"])
    _check_role(ctx, role, source, fn["Name"])
    return {"FunctionArn": ref.addressed_arn, "_Account": fn["Account"], "_Region": fn["Region"], "_Name": fn["Name"],
            "_Qualifier": ref.qualifier}
