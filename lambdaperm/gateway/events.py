"""Event sources (spec §3.7–3.8).

Push: S3 bucket notifications and SNS subscriptions invoke a function as the service principal
(`s3.amazonaws.com`, `sns.amazonaws.com`) with aws:SourceArn and aws:SourceAccount, so only the function
policy can allow them. PutBucketNotificationConfiguration is refused (400 InvalidArgument, "Unable to
validate the following destination configurations") when the function policy does not allow S3; a push
delivery that is denied later is recorded in the trail with its denial, not lost silently.

Pull: SQS event source mappings are polled with the execution role (it must allow ReceiveMessage,
DeleteMessage and GetQueueAttributes on the queue); a batch is deleted only after a successful invoke;
a denial or a function error leaves the messages in the queue.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from lambdaperm.authz import request_context
from lambdaperm.catalog import RequiredAction
from lambdaperm.dataplane import bucket_registry, moto_state, s3_notification_arns, sns_lambda, unit_records
from lambdaperm.dataplane.deliveries import Guard
from lambdaperm.dataplane.s3_event_keys import event_key
from lambdaperm.gateway.batch_item_failures import to_delete
from lambdaperm.policy import Caller, PrincipalKind
from lambdaperm.protocol import ServiceError
from lambdaperm.services.context import RequestContext
from lambdaperm.services.lambda_ import incarnation
from lambdaperm.services.lambda_ import store as lambda_store
from lambdaperm.services.lambda_.invoke import run
from lambdaperm.services.lambda_.mappings import MAPPING
from lambdaperm.services.lambda_.names import named_region, parse_function
from lambdaperm.services.lambda_.roles import lambda_can_assume, role_entity, session_identity
from lambdaperm.state.identity import Identity

from . import mapping_current
from .recording import record
from .server import Server

log = logging.getLogger("lambdaperm.events")
NOTIFICATION = "s3.notification"  # account "", key bucket -> {Bucket, Owner, Region, Created, Targets}
_S3_EVENTS = {
    "PutObject": "ObjectCreated:Put",
    "CopyObject": "ObjectCreated:Copy",
    "CompleteMultipartUpload": "ObjectCreated:CompleteMultipartUpload",
    "DeleteObject": "ObjectRemoved:Delete",
}


def service_identity(service: str) -> Identity:
    return Identity(Caller(service, PrincipalKind.SERVICE, "", name=service), service)


def push_denial(
    server: Server,
    service: str,
    action: str,
    destination_arn: str,
    source_arn: str,
    source_account: str,
    now: datetime,
    region: str,
) -> str | None:
    """None when the destination's resource policy lets `service` (a service principal) perform `action` on
    `destination_arn` for this source (aws:SourceArn, aws:SourceAccount); else the denial's message. A service
    principal has no identity policies: only the destination's policy can allow."""
    identity = service_identity(service)
    context = request_context(identity, now=now, region=region, source_ip="", tags={})
    context["aws:sourcearn"] = (source_arn,)
    context["aws:sourceaccount"] = (source_account,)
    denied = server.authorizer.enforce(identity, [RequiredAction(action, (destination_arn,), {})], context)
    return denied.decision.message if denied else None


def push_allowed(
    server: Server, service: str, function_arn: str, source_arn: str, source_account: str, now: datetime, region: str
) -> str | None:
    """None when the function policy lets `service` invoke the function for this source; else the denial."""
    return push_denial(server, service, "lambda:InvokeFunction", function_arn, source_arn, source_account, now, region)


def delivery_guard(server: Server) -> Guard:
    """The guard the data plane asks before each delivery it makes itself (dataplane/deliveries.py)."""

    def guard(service: str, action: str, destination: str, source_arn: str, source_account: str, region: str) -> bool:
        return (
            push_denial(server, service, action, destination, source_arn, source_account, datetime.now(UTC), region)
            is None
        )

    return guard


# ---- S3 -------------------------------------------------------------------------------------------
# S3 → Lambda targets are lambdaperm's (moto keeps SQS and SNS destinations inside its bucket). They belong to
# one bucket incarnation: its owner and creation time are stored with them and checked at every event; a
# deleted bucket takes them along (`forget_bucket`), and at start-up those of buckets that no longer exist
# are dropped (`prune_bucket_notifications`). A bucket name created again, by anyone, starts with none.

_DESTINATIONS = (  # (configuration list, ARN member, action, what S3 answers when the policy does not allow)
    ("LambdaFunctionConfigurations", "LambdaFunctionArn", "lambda:InvokeFunction", "Not authorized to invoke function"),
    (
        "QueueConfigurations",
        "QueueArn",
        "sqs:SendMessage",
        "Permissions on the destination queue do not allow S3 to publish notifications from this bucket",
    ),
    (
        "TopicConfigurations",
        "TopicArn",
        "sns:Publish",
        "Permissions on the destination topic do not allow S3 to publish notifications from this bucket",
    ),
)


def _source(bucket: str) -> dict[str, str] | None:
    found = moto_state.bucket_identity(bucket)
    return None if found is None else {"Owner": found.owner, "Region": found.region, "Created": found.created}


def check_bucket_notifications(
    server: Server, params: dict[str, Any], account: str, region: str, now: datetime
) -> list[dict[str, Any]]:
    """Validate every destination of a PutBucketNotificationConfiguration call before it is stored: S3 (as
    s3.amazonaws.com, SourceArn the bucket, SourceAccount its owner) must be allowed by each destination's
    policy, else 400 InvalidArgument "Unable to validate the following destination configurations" with
    ArgumentName<n>/ArgumentValue<n> per refused destination. Returns the Lambda targets to store."""
    config = params.get("NotificationConfiguration") or {}
    bucket = str(params["Bucket"])
    lambda_targets = list(config.get("LambdaFunctionConfigurations") or [])
    if server.config.upstream is not None:
        if lambda_targets:  # the bucket lives upstream: its owner and incarnation cannot be checked here
            raise ServiceError(
                "NotImplemented",
                "S3 notifications to Lambda functions are not supported with "
                "--upstream (the bucket's owner cannot be verified)",
                501,
                sender_fault=False,
            )
        return []
    source = _source(bucket)
    if source is None:
        return []  # no such bucket: the backend answers NoSuchBucket
    s3_notification_arns.check(config)  # each kind's `aws` ARN: decided as delivered (region/account round 12)
    for member, arn_member, _action, _reason in _DESTINATIONS:
        for target in config.get(member) or []:
            arn = str(target.get(arn_member) or "")
            if arn.count(":") >= 5 and arn.split(":")[3] != source["Region"]:
                # AWS: every destination is in the bucket's region. Refused here, before the backend, which
                # stores the configuration before it validates the regions (and then delivers to it).
                raise ServiceError(
                    "InvalidArgument",
                    "The notification destination service region is not valid for the bucket location constraint",
                    400,
                )
    refused: list[tuple[str, str]] = []
    for member, arn_member, action, reason in _DESTINATIONS:
        for target in config.get(member) or []:
            arn = str(target.get(arn_member) or "")
            target_region = arn.split(":")[3] if arn.count(":") >= 5 else region
            if (
                push_denial(
                    server,
                    "s3.amazonaws.com",
                    action,
                    arn,
                    f"arn:aws:s3:::{bucket}",
                    source["Owner"],
                    now,
                    target_region,
                )
                is not None
            ):
                refused.append((arn, reason))
    if refused:
        fields: dict[str, str] = {}
        for i, (arn, reason) in enumerate(refused, start=1):
            fields[f"ArgumentName{i}"] = arn
            fields[f"ArgumentValue{i}"] = reason
        raise ServiceError(
            "InvalidArgument", "Unable to validate the following destination configurations", 400, fields=fields
        )
    return [{**t, "_Source": source} for t in lambda_targets]


def store_bucket_notifications(
    server: Server, bucket: str, account: str, region: str, targets: list[dict[str, Any]]
) -> None:
    """Keep the Lambda targets with the bucket incarnation they were validated for; if the bucket changed in
    between (deleted, created again), nothing is kept."""
    # written with the call's journal entry (dataplane/unit_records.py): a configuration a crash lost leaves none
    source = _source(bucket)
    if source is None or any(t.get("_Source") != source for t in targets):
        unit_records.delete(server.records, NOTIFICATION, "", bucket)
        return
    kept = [{k: v for k, v in t.items() if k != "_Source"} for t in targets]
    unit_records.put(server.records, NOTIFICATION, "", bucket, {"Bucket": bucket, **source, "Targets": kept})


def _current(server: Server, bucket: str, prune: bool = False) -> dict[str, Any] | None:
    """The stored targets of `bucket`, if they belong to the bucket that has that name now. Those of another
    incarnation are deleted at start-up only (`prune`): live, the bucket read may be one a call not yet committed
    made, which a crash can still undo (persistence review round 8)."""
    entry = server.records.get(NOTIFICATION, "", bucket)
    if entry is None:
        return None
    source = _source(bucket)
    if source is None or any(entry.get(k) != v for k, v in source.items()):
        if prune:
            server.records.delete(NOTIFICATION, "", bucket)
        return None
    return entry


def forget_bucket(server: Server, bucket: str, owner: str, created: str) -> None:
    """A bucket was deleted: its Lambda targets go with it, and its name is free for any account."""
    bucket_registry.deleted(server.records, bucket, owner)  # both with the call's journal entry (unit_records)
    unit_records.delete(server.records, NOTIFICATION, "", bucket, where={"Owner": owner, "Created": created})


def prune_bucket_notifications(server: Server) -> int:
    """Drop the targets of buckets that no longer exist as the bucket they were configured on (at start-up the
    embedded data plane is empty: all of them). A record without its bucket's incarnation (an older layout)
    never matches a bucket and is dropped at the next start-up. Returns how many
    were dropped."""
    buckets = [
        entry["Bucket"] for _, entry in server.records.scan(NOTIFICATION) if isinstance(entry.get("Bucket"), str)
    ]
    return sum(1 for bucket in buckets if _current(server, bucket, prune=True) is None)


def _key_matches(target: dict[str, Any], key: str) -> bool:
    rules = ((target.get("Filter") or {}).get("Key") or {}).get("FilterRules") or []
    for rule in rules:
        name, value = str(rule.get("Name", "")).lower(), str(rule.get("Value", ""))
        if name == "prefix" and not key.startswith(value):
            return False
        if name == "suffix" and not key.endswith(value):
            return False
    return True


def s3_object_event(server: Server, operation: str, params: dict[str, Any], now: datetime) -> None:
    event_name = _S3_EVENTS.get(operation)
    if event_name is None:
        return
    bucket = params.get("Bucket")
    key = params.get("Key")
    entry = _current(server, bucket) if isinstance(bucket, str) else None
    if entry is None or key is None:
        return
    for target in entry["Targets"]:
        wanted = target.get("Events") or []
        if not any(fnmatch.fnmatchcase(f"s3:{event_name}", w) for w in wanted):
            continue
        if not _key_matches(target, key):
            continue
        event = {
            "Records": [
                {
                    "eventVersion": "2.1",
                    "eventSource": "aws:s3",
                    "awsRegion": entry["Region"],
                    "eventTime": now.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                    "eventName": event_name,
                    "userIdentity": {"principalId": "AWS:" + entry["Owner"]},
                    "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                    "responseElements": {"x-amz-request-id": uuid.uuid4().hex[:16].upper()},
                    "s3": {
                        "s3SchemaVersion": "1.0",
                        "configurationId": target.get("Id", ""),
                        "bucket": {
                            "name": bucket,
                            "ownerIdentity": {"principalId": entry["Owner"]},
                            "arn": f"arn:aws:s3:::{bucket}",
                        },
                        "object": {"key": event_key(str(key)), "sequencer": f"{int(now.timestamp() * 1e6):X}"},
                    },
                }
            ]
        }
        deliver(
            server,
            "s3.amazonaws.com",
            target["LambdaFunctionArn"],
            f"arn:aws:s3:::{bucket}",
            entry["Owner"],
            entry["Region"],
            event,
        )


# ---- SNS ------------------------------------------------------------------------------------------


def sns_publish_event(
    server: Server, operation: str, params: dict[str, Any], output: dict[str, Any] | None, account: str, region: str,
    now: datetime,
) -> None:
    """Each message of a Publish or PublishBatch, delivered to each Lambda subscriber of the topic (sns_lambda)."""
    topic = params.get("TopicArn")
    if not topic:
        return
    try:
        subs = moto_state.lambda_subscriptions(account, region, topic)
    except Exception:  # an unknown topic: moto already answered the publish
        return
    for message in sns_lambda.published(operation, params, output):
        for sub_arn, function_arn in subs:
            event = sns_lambda.lambda_event(sub_arn, topic, message, now)
            deliver(server, "sns.amazonaws.com", function_arn, topic, account, region, event)


# ---- delivery -------------------------------------------------------------------------------------


def deliver(
    server: Server,
    service: str,
    function_arn: str,
    source_arn: str,
    source_account: str,
    region: str,
    event: dict[str, Any],
) -> None:
    """Invoke asynchronously as `service`; a denial is recorded in the trail (never dropped silently)."""
    # in the function's own region: SNS delivers to a function of another region (sns-lambda-as-subscriber.html)
    region = named_region(function_arn) or region

    def job() -> None:
        now = datetime.now(UTC)
        request_id = str(uuid.uuid4())
        identity = service_identity(service)
        # the function's incarnation, read before the decision: the run must be of the function whose policy
        # allowed it, not one created since under the same name (races review round 3; incarnation.py)
        pinned = incarnation.pin(server.records, "Invoke", {"FunctionName": function_arn}, source_account, region)
        denial = push_allowed(server, service, function_arn, source_arn, source_account, now, region)
        ref = parse_function(function_arn, None, account=source_account, region=region)
        rec = record(
            identity=identity,
            service="lambda",
            operation="Invoke",
            region=ref.region,
            now=now,
            request_id=request_id,
            source_ip=service,
            user_agent=service,
            params={
                "FunctionName": function_arn,
                "InvocationType": "Event",
                "SourceArn": source_arn,
                "SourceAccount": source_account,
            },
            output=None,
            error=("AccessDeniedException", denial) if denial else None,
            resources=[ref.arn],
            recipient=ref.account,
        )
        server.trail.append(rec)
        if denial is not None:
            log.warning("push delivery denied: %s", denial)
            return
        fn = lambda_store.find(server.records, ref)
        if fn is None:
            log.warning("push delivery to a missing function %s", function_arn)
            return
        try:
            incarnation.check(pinned, fn)
        except ServiceError:
            log.warning("push delivery dropped: %s was deleted and created again after it was authorized", function_arn)
            return
        version, _alias = lambda_store.resolve_qualifier(fn, ref)
        ctx = RequestContext(
            identity=identity,
            region=ref.region,
            request_id=request_id,
            now=now,
            records=server.records,
            trail=server.trail,
            env=server.lambda_env,
        )
        run(ctx, fn, version, json.dumps(event).encode())

    # counted on the function's account (arn:aws:lambda:<region>:<account>:function:…): its share of the asynchronous
    # threads (gateway/async_invokes.py); a name that is no ARN is the source account's (as parse_function reads it).
    # A delivery the function's policy refuses now is the source's work, not the function's: queued on the source's
    # account, it cannot wait ahead of the function account's own jobs (isolation review round 7). The job decides
    # again when it runs.
    arn = function_arn.split(":")
    owner = arn[4] if arn[0] == "arn" and len(arn) > 5 and arn[4] else source_account
    # (only the queue is chosen here: push_denial, not push_allowed — the job's own decision is the one that counts)
    if owner != source_account and push_denial(
        server, service, "lambda:InvokeFunction", function_arn, source_arn, source_account, datetime.now(UTC), region
    ):
        owner = source_account
    server.lambda_env.submit(job, owner, len(json.dumps(event)))  # the queue full: dropped, logged (isolation round 8)


# ---- SQS poller -----------------------------------------------------------------------------------


class SqsPoller:
    """Polls every enabled SQS event source mapping with the function's execution role."""

    def __init__(self, server: Server, interval: float = 0.25) -> None:
        self.server = server
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="lambdaperm-sqs-poller", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            for _, mapping in self.server.records.scan(MAPPING):
                if mapping.get("State") != "Enabled" or mapping["EventSourceArn"].split(":")[2] != "sqs":
                    continue
                try:
                    self.poll(mapping)
                except Exception:  # one broken mapping must not stop the others
                    log.exception("polling %s failed", mapping["EventSourceArn"])

    def poll(self, mapping: dict[str, Any]) -> int:
        """One poll of one mapping; returns how many messages were processed and deleted."""
        # the mapping as it is now, not as the pass read it: disabled, deleted or moved since, not polled as it was
        # (races review round 13; mapping_current.py)
        found = mapping_current.current(self.server.records, mapping)
        if found is None:
            return 0
        mapping = found
        _, _, _, region, account, queue = mapping["EventSourceArn"].split(":", 5)
        if moto_state.sqs_visible_count(account, region, queue) == 0:
            return 0
        ref = parse_function(mapping["FunctionArn"], None, account=mapping["_Account"], region=mapping["_Region"])
        # the function's incarnation, read before the decision: the batch runs only that function, not one created
        # since under the name nor the record of a deleted one (races review round 3; incarnation.py)
        pinned = incarnation.pin(self.server.records, "Invoke", {"FunctionName": ref.arn}, ref.account, ref.region)
        fn = lambda_store.find(self.server.records, ref)
        if fn is None:
            return 0
        version, _alias = lambda_store.resolve_qualifier(fn, ref)
        now = datetime.now(UTC)
        ctx = RequestContext(
            identity=service_identity("lambda.amazonaws.com"),
            region=ref.region,
            request_id=str(uuid.uuid4()),
            now=now,
            records=self.server.records,
            trail=self.server.trail,
            env=self.server.lambda_env,
        )
        role = role_entity(ctx, lambda_store.config_of(fn, version)["Role"])
        source = mapping["EventSourceArn"]
        if role is None or not lambda_can_assume(role, fn["Arn"], now):
            return 0  # Lambda polls with credentials of the role it assumes: no role it can assume, no receive
        session = session_identity(role, fn["Name"], now)
        # a session of the role: the role's tags are its principal tags (aws:PrincipalTag)
        tags = self.server.policies.principal_tags(session)
        context = request_context(session, now=now, region=region, source_ip="", tags=tags)
        needed = [
            RequiredAction(a, (source,), {})
            for a in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
        ]
        if self.server.authorizer.enforce(session, needed, context) is not None:
            return 0  # denied (by the role, or by the queue policy): the messages stay in the queue
        messages = moto_state.sqs_receive(account, region, queue, int(mapping.get("BatchSize") or 10))
        if not messages:
            return 0
        for m in messages:
            m.update({"eventSource": "aws:sqs", "eventSourceARN": source, "awsRegion": region})
        # the function as it is now: the incarnation decided on, or the batch is not run (it is visible again after
        # the visibility timeout, as after a failed invocation)
        fn = lambda_store.find(self.server.records, ref)
        if fn is None:
            log.warning("SQS batch not run: %s was deleted after the poll was decided", ref.arn)
            return 0
        try:
            incarnation.check(pinned, fn)
        except ServiceError:
            log.warning("SQS batch not run: %s was deleted and created again after the poll was decided", ref.arn)
            return 0
        version, _alias = lambda_store.resolve_qualifier(fn, ref)
        result = run(ctx, fn, version, json.dumps({"Records": messages}).encode())
        if result.function_error:
            return 0  # visible again after the visibility timeout
        done = to_delete(messages, result.payload, mapping.get("FunctionResponseTypes") or [])  # partial batches
        for m in done:
            moto_state.sqs_delete(account, region, queue, m["receiptHandle"])
        return len(done)
