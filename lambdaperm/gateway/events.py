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
from urllib.parse import unquote

from lambdaperm.authz import request_context
from lambdaperm.catalog import RequiredAction
from lambdaperm.dataplane import moto_state
from lambdaperm.policy import Caller, PrincipalKind
from lambdaperm.protocol import ServiceError
from lambdaperm.services.context import RequestContext
from lambdaperm.services.lambda_ import store as lambda_store
from lambdaperm.services.lambda_.invoke import run
from lambdaperm.services.lambda_.mappings import MAPPING
from lambdaperm.services.lambda_.names import parse_function
from lambdaperm.services.lambda_.roles import role_entity, session_identity
from lambdaperm.state.identity import Identity

from .recording import record
from .server import Server

log = logging.getLogger("lambdaperm.events")
NOTIFICATION = "s3.notification"  # account "", key bucket -> {Owner, Region, Configurations}
_S3_EVENTS = {"PutObject": "ObjectCreated:Put", "CopyObject": "ObjectCreated:Copy",
              "CompleteMultipartUpload": "ObjectCreated:CompleteMultipartUpload",
              "DeleteObject": "ObjectRemoved:Delete"}


def service_identity(service: str) -> Identity:
    return Identity(Caller(service, PrincipalKind.SERVICE, "", name=service), service)


def push_allowed(server: Server, service: str, function_arn: str, source_arn: str, source_account: str,
                 now: datetime, region: str) -> str | None:
    """None when the function policy lets `service` invoke the function for this source; else the denial."""
    identity = service_identity(service)
    context = request_context(identity, now=now, region=region, source_ip="", tags={})
    context["aws:sourcearn"] = (source_arn,)
    context["aws:sourceaccount"] = (source_account,)
    denied = server.authorizer.enforce(identity, [RequiredAction("lambda:InvokeFunction", (function_arn,), {})],
                                       context)
    return denied.decision.message if denied else None


# ---- S3 -------------------------------------------------------------------------------------------

def check_bucket_notifications(server: Server, params: dict[str, Any], account: str, region: str,
                               now: datetime) -> list[dict[str, Any]]:
    """Validate the Lambda destinations of a PutBucketNotificationConfiguration call (before it is stored)."""
    config = params.get("NotificationConfiguration") or {}
    targets = config.get("LambdaFunctionConfigurations") or []
    bucket = params["Bucket"]
    for target in targets:
        if push_allowed(server, "s3.amazonaws.com", target["LambdaFunctionArn"], f"arn:aws:s3:::{bucket}",
                        account, now, region) is not None:
            raise ServiceError("InvalidArgument", "Unable to validate the following destination configurations",
                               400, fields={"ArgumentName1": target["LambdaFunctionArn"],
                                            "ArgumentValue1": "Not authorized to invoke function"})
    return list(targets)


def store_bucket_notifications(server: Server, bucket: str, account: str, region: str,
                               targets: list[dict[str, Any]]) -> None:
    server.records.put(NOTIFICATION, "", bucket, {"Owner": account, "Region": region, "Targets": targets})


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
    entry = server.records.get(NOTIFICATION, "", bucket) if bucket else None
    if entry is None or key is None:
        return
    for target in entry["Targets"]:
        wanted = target.get("Events") or []
        if not any(fnmatch.fnmatchcase(f"s3:{event_name}", w) for w in wanted):
            continue
        if not _key_matches(target, key):
            continue
        event = {"Records": [{
            "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": entry["Region"],
            "eventTime": now.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z", "eventName": event_name,
            "userIdentity": {"principalId": "AWS:" + entry["Owner"]},
            "requestParameters": {"sourceIPAddress": "127.0.0.1"},
            "responseElements": {"x-amz-request-id": uuid.uuid4().hex[:16].upper()},
            "s3": {"s3SchemaVersion": "1.0", "configurationId": target.get("Id", ""),
                   "bucket": {"name": bucket, "ownerIdentity": {"principalId": entry["Owner"]},
                              "arn": f"arn:aws:s3:::{bucket}"},
                   "object": {"key": unquote(str(key)), "sequencer": f"{int(now.timestamp() * 1e6):X}"}},
        }]}
        deliver(server, "s3.amazonaws.com", target["LambdaFunctionArn"], f"arn:aws:s3:::{bucket}", entry["Owner"],
                entry["Region"], event)


# ---- SNS ------------------------------------------------------------------------------------------

def sns_publish_event(server: Server, params: dict[str, Any], output: dict[str, Any] | None, account: str,
                      region: str, now: datetime) -> None:
    topic = params.get("TopicArn")
    if not topic:
        return
    try:
        subs = moto_state.lambda_subscriptions(account, region, topic)
    except Exception:  # an unknown topic: moto already answered the publish
        return
    for sub_arn, function_arn in subs:
        event = {"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": sub_arn,
                              "Sns": {"Type": "Notification", "MessageId": str(uuid.uuid4()), "TopicArn": topic,
                                      "Subject": params.get("Subject"), "Message": params.get("Message", ""),
                                      "Timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                                      "SignatureVersion": "1", "Signature": "", "SigningCertUrl": "",
                                      "UnsubscribeUrl": "", "MessageAttributes": {}}}]}
        deliver(server, "sns.amazonaws.com", function_arn, topic, account, region, event)


# ---- delivery -------------------------------------------------------------------------------------

def deliver(server: Server, service: str, function_arn: str, source_arn: str, source_account: str, region: str,
            event: dict[str, Any]) -> None:
    """Invoke asynchronously as `service`; a denial is recorded in the trail (never dropped silently)."""
    def job() -> None:
        now = datetime.now(UTC)
        request_id = str(uuid.uuid4())
        identity = service_identity(service)
        denial = push_allowed(server, service, function_arn, source_arn, source_account, now, region)
        ref = parse_function(function_arn, None, account=source_account, region=region)
        rec = record(identity=identity, service="lambda", operation="Invoke", region=ref.region, now=now,
                     request_id=request_id, source_ip=service, user_agent=service,
                     params={"FunctionName": function_arn, "InvocationType": "Event", "SourceArn": source_arn,
                             "SourceAccount": source_account},
                     output=None, error=("AccessDeniedException", denial) if denial else None,
                     resources=[ref.arn], recipient=ref.account)
        server.trail.append(rec)
        if denial is not None:
            log.warning("push delivery denied: %s", denial)
            return
        fn = lambda_store.find(server.records, ref)
        if fn is None:
            log.warning("push delivery to a missing function %s", function_arn)
            return
        version, _alias = lambda_store.resolve_qualifier(fn, ref)
        ctx = RequestContext(identity=identity, region=ref.region, request_id=request_id, now=now,
                             records=server.records, trail=server.trail, env=server.lambda_env)
        run(ctx, fn, version, json.dumps(event).encode())
    server.lambda_env.submit(job)


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
        _, _, _, region, account, queue = mapping["EventSourceArn"].split(":", 5)
        if moto_state.sqs_visible_count(account, region, queue) == 0:
            return 0
        ref = parse_function(mapping["FunctionArn"], None, account=mapping["_Account"], region=mapping["_Region"])
        fn = lambda_store.find(self.server.records, ref)
        if fn is None:
            return 0
        version, _alias = lambda_store.resolve_qualifier(fn, ref)
        now = datetime.now(UTC)
        ctx = RequestContext(identity=service_identity("lambda.amazonaws.com"), region=ref.region,
                             request_id=str(uuid.uuid4()), now=now, records=self.server.records,
                             trail=self.server.trail, env=self.server.lambda_env)
        role = role_entity(ctx, lambda_store.config_of(fn, version)["Role"])
        source = mapping["EventSourceArn"]
        if role is None:
            return 0
        session = session_identity(role, fn["Name"], now)
        context = request_context(session, now=now, region=region, source_ip="", tags={})
        needed = [RequiredAction(a, (source,), {}) for a in
                  ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")]
        if self.server.authorizer.enforce(session, needed, context) is not None:
            return 0  # denied (by the role, or by the queue policy): the messages stay in the queue
        messages = moto_state.sqs_receive(account, region, queue, int(mapping.get("BatchSize") or 10))
        if not messages:
            return 0
        for m in messages:
            m.update({"eventSource": "aws:sqs", "eventSourceARN": source, "awsRegion": region})
        result = run(ctx, fn, version, json.dumps({"Records": messages}).encode())
        if result.function_error:
            return 0  # visible again after the visibility timeout
        for m in messages:
            moto_state.sqs_delete(account, region, queue, m["receiptHandle"])
        return len(messages)
