"""SNS deliveries by protocol: the ones lambdaperm performs are served, the others refused, none stored and dropped.

A subscription is a setting SNS acts on at every Publish, delivering to its endpoint by its protocol
(https://docs.aws.amazon.com/sns/latest/api/API_Subscribe.html): `sqs` and `lambda` are delivered here (moto's
SendMessage guarded by the queue policy, `dataplane/deliveries.py`; lambdaperm's Invoke by the function policy,
`gateway/events.py`). SNS also POSTs to `http`/`https` endpoints, mails `email`/`email-json`, texts `sms`, pushes to a
mobile `application` endpoint through its platform application, and writes to a `firehose` stream as the
subscription's `SubscriptionRoleArn` (https://docs.aws.amazon.com/sns/latest/dg/prereqs-kinesis-data-firehose.html);
none is served, and moto 5.2.1 stored each (and any other text as a protocol), answered it confirmed and delivered
nothing. A Publish with `PhoneNumber` (an SMS) or a platform endpoint's `TargetArn` (a mobile push,
https://docs.aws.amazon.com/sns/latest/api/API_Publish.html) answered a MessageId and sent nothing.

Implicit accesses review round 11: a documented protocol lambdaperm does not deliver, and those Publish forms, are
501 NotImplemented after authorization; a protocol outside SNS's list (matched as written, as the service's list is
lower case) is 400 InvalidParameter.
"""

from __future__ import annotations

from collections.abc import Mapping

from lambdaperm.protocol.errors import ServiceError

DELIVERED = frozenset({"sqs", "lambda"})
UNDELIVERED = frozenset({"http", "https", "email", "email-json", "sms", "application", "firehose"})


def _not_served(operation: str, what: str, why: str) -> ServiceError:
    return ServiceError(
        "NotImplemented",
        f"lambdaperm does not serve {operation} with {what}: SNS would {why} and lambdaperm does not",
        501,
        sender_fault=False,
    )


def _is_platform_endpoint(arn: str) -> bool:
    parts = arn.split(":", 5)
    return len(parts) == 6 and parts[2] == "sns" and parts[5].startswith("endpoint/")


def check(service: str, operation: str, params: Mapping[str, object]) -> None:
    """Refuse a Subscribe SNS would deliver and lambdaperm does not, and a Publish to a phone or a device."""
    if service != "sns":
        return
    if operation == "Subscribe" and isinstance(params.get("Protocol"), str):
        protocol = str(params["Protocol"])
        if protocol in UNDELIVERED:
            raise _not_served(operation, f"Protocol {protocol}", f"deliver every message to the {protocol} endpoint")
        if protocol not in DELIVERED:
            raise ServiceError(
                "InvalidParameter",
                f"Invalid parameter: Amazon SNS does not support this protocol string: {protocol}",
                400,
            )
    elif operation == "Publish":
        phone = params.get("PhoneNumber")
        target = params.get("TargetArn")
        if isinstance(phone, str) and phone:
            raise _not_served(operation, "PhoneNumber", "send the message as an SMS")
        if isinstance(target, str) and _is_platform_endpoint(target):
            raise _not_served(operation, "TargetArn of a platform endpoint", "push the message to the device")
