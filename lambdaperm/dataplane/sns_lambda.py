"""SNS `lambda` subscriptions are delivered by lambdaperm, not by moto: the messages a publish call made, and the
event a Lambda subscriber receives for each.

Publish makes one message; PublishBatch one per entry the topic accepted (its `Successful` list), each delivered to
the topic's subscribers as Publish delivers it (https://docs.aws.amazon.com/sns/latest/api/API_PublishBatch.html).
A Lambda subscriber receives each message as its own `aws:sns` event record
(https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

PUBLISHING = frozenset({"Publish", "PublishBatch"})


@dataclass(frozen=True, slots=True)
class Published:
    """One message a publish call put on the topic."""

    message_id: str
    message: str
    subject: str | None


def published(operation: str, params: Mapping[str, Any], output: Mapping[str, Any] | None) -> list[Published]:
    """The messages `operation` (Publish or PublishBatch) published, by the ids the topic gave them."""
    out = output or {}
    if operation == "Publish":
        message_id = str(out.get("MessageId") or uuid.uuid4())
        return [Published(message_id, str(params.get("Message", "")), params.get("Subject"))]
    if operation != "PublishBatch":
        return []
    entries = {e.get("Id"): e for e in params.get("PublishBatchRequestEntries") or [] if isinstance(e, dict)}
    made = []
    for ok in out.get("Successful") or []:
        entry = entries.get(ok.get("Id"))
        if entry is not None:  # the topic accepted it: delivered like a Publish
            made.append(
                Published(str(ok.get("MessageId") or uuid.uuid4()), str(entry.get("Message", "")), entry.get("Subject"))
            )
    return made


def lambda_event(subscription_arn: str, topic_arn: str, message: Published, now: datetime) -> dict[str, Any]:
    """The event a Lambda subscriber is invoked with for one message."""
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription_arn,
                "Sns": {
                    "Type": "Notification",
                    "MessageId": message.message_id,
                    "TopicArn": topic_arn,
                    "Subject": message.subject,
                    "Message": message.message,
                    "Timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                    "SignatureVersion": "1",
                    "Signature": "",
                    "SigningCertUrl": "",
                    "UnsubscribeUrl": "",
                    "MessageAttributes": {},
                },
            }
        ]
    }


def leave_lambda_delivery_to_lambdaperm() -> None:
    """moto's SNS would deliver `lambda` subscriptions to moto's own Lambda backend (where our functions do
    not exist, failing the Publish). lambdaperm delivers them itself, through the function policy, so moto's
    delivery is switched off for that protocol only."""
    from moto.sns.models import Subscription

    original = Subscription.publish
    if getattr(original, "_lambdaperm", False):
        return

    def publish(self: Any, *args: Any, **kwargs: Any) -> Any:
        if self.protocol == "lambda":
            return None
        return original(self, *args, **kwargs)

    publish._lambdaperm = True  # type: ignore[attr-defined]
    Subscription.publish = publish  # type: ignore[method-assign]
