"""SNS → SQS subscriptions that need the queue owner's confirmation before anything is delivered.

AWS (https://docs.aws.amazon.com/sns/latest/dg/sns-send-message-to-sqs-cross-account.html,
https://docs.aws.amazon.com/sns/latest/api/API_Subscribe.html): a subscription of an SQS queue whose account is
not the topic's needs confirmation unless the queue's owner made it ("When the queue owner creates a
subscription, the subscription doesn't require confirmation"). SNS then sends the queue a
`SubscriptionConfirmation` message carrying a token
(https://docs.aws.amazon.com/sns/latest/dg/http-subscription-confirmation-json.html) and delivers nothing else
until `ConfirmSubscription(TopicArn, Token)` presents that token
(https://docs.aws.amazon.com/sns/latest/api/API_ConfirmSubscription.html; tokens are valid for two days; any
other token is 400 InvalidParameter "Invalid parameter: Token"). Subscribe answers "pending confirmation" unless
`ReturnSubscriptionArn` is true; listings show a pending subscription's ARN as "PendingConfirmation", and its
attribute PendingConfirmation is "true".

The embedded moto backend confirms every subscription at once. Here, who subscribed (the account of the call that
was authorized) is recorded when Subscribe has run, against moto's subscription object itself, so the record
lives exactly as long as the subscription (Unsubscribe, DeleteTopic and a restart — the data plane starts empty
— end both). `deliverable` is asked before every SNS → SQS delivery and fails closed: a subscription across
accounts is delivered to only once a record says it is confirmed, so the moment between moto's creation and
the record delivers nothing.
"""

from __future__ import annotations

import hmac
import json
import secrets
import threading
import time
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from lambdaperm.protocol.errors import ServiceError

from .journal import taped
from .sns_subscription_owners import subscribed as owned_by_subscriber

# (topic ARN, queue ARN, message body) -> whether the queue's policy let SNS send it
Send = Callable[[str, str, str], bool]

PENDING_REPLY = "pending confirmation"  # Subscribe's SubscriptionArn for a pending subscription
PENDING_LISTED = "PendingConfirmation"  # the SubscriptionArn listings show for it
TOKEN_LIFETIME = 2 * 24 * 3600.0  # "Confirmation tokens are valid for two days" (API_Subscribe)


@dataclass(slots=True)
class _State:
    confirmed: bool
    tokens: dict[str, float] = field(default_factory=dict)  # token -> when it was issued (time.time())


_lock = threading.Lock()
_states: weakref.WeakKeyDictionary[Any, _State] = weakref.WeakKeyDictionary()


def _account(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) >= 6 and parts[0] == "arn" else ""


def _across_accounts(subscription: Any) -> bool:
    """An `sqs` subscription whose queue is not in the topic's account: the only kind that may need confirming."""
    return bool(
        subscription.protocol == "sqs" and _account(str(subscription.endpoint)) != _account(subscription.topic.arn)
    )


def deliverable(subscription: Any) -> bool:
    """Whether SNS may deliver to this subscription now: at once within one account, across accounts only once
    recorded confirmed (an unrecorded one — just created, or made some other way — delivers nothing)."""
    if not _across_accounts(subscription):
        return True
    with _lock:
        state = _states.get(subscription)
        return state is not None and state.confirmed


def _pending(subscription: Any) -> bool:
    return _across_accounts(subscription) and not deliverable(subscription)


def _subscription(arn: str) -> Any:
    """moto's subscription of that ARN (`<topic ARN>:<id>`, kept in the topic's account and region), or None."""
    from moto.sns.models import sns_backends

    parts = arn.split(":")
    if len(parts) != 7 or parts[0] != "arn" or parts[2] != "sns":
        return None
    try:
        return sns_backends[parts[4]][parts[3]].subscriptions.get(arn)
    except (KeyError, ValueError):
        return None


# ---- Subscribe ---------------------------------------------------------------------------------------------


def subscribed(params: dict[str, Any], output: dict[str, Any], subscriber: str, send: Send, now: float) -> None:
    """After Subscribe ran: record whether `subscriber` (the authorized caller's account) needs the queue
    owner's confirmation; if so, send the queue a SubscriptionConfirmation and answer "pending confirmation"
    (in place)."""
    arn = output.get("SubscriptionArn")
    subscription = _subscription(arn) if isinstance(arn, str) else None
    if subscription is None or not _across_accounts(subscription):
        return  # within one account; or gone already (a concurrent Unsubscribe), and never delivered to
    queue_owner = _account(str(subscription.endpoint))
    token = None
    with _lock:
        state = _states.setdefault(subscription, _State(confirmed=False))
        if subscriber == queue_owner:
            state.confirmed = True  # the queue's owner asked for the messages itself
        elif not state.confirmed:
            token = taped(lambda: secrets.token_hex(64))  # a replay reads back the token issued (journal.py)
            state.tokens[token] = now
    if token is None:
        return
    if not params.get("ReturnSubscriptionArn"):
        output["SubscriptionArn"] = PENDING_REPLY
    topic = str(subscription.topic.arn)
    send(topic, str(subscription.endpoint), confirmation_message(topic, token, now))


def confirmation_message(topic: str, token: str, now: float) -> str:
    """The SubscriptionConfirmation document SNS puts in the queue (the HTTP/HTTPS confirmation's JSON format).
    lambdaperm does not sign it: no Signature, SignatureVersion or SigningCertURL."""
    region = topic.split(":")[3]
    query = f"Action=ConfirmSubscription&TopicArn={quote(topic, safe='')}&Token={token}"
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    document = {
        "Type": "SubscriptionConfirmation",
        "MessageId": taped(lambda: str(uuid.uuid4())),
        "Token": token,
        "TopicArn": topic,
        "Message": f"You have chosen to subscribe to the topic {topic}.\n"
        "To confirm the subscription, visit the SubscribeURL included in this message.",
        "SubscribeURL": f"https://sns.{region}.amazonaws.com/?{query}",
        "Timestamp": stamp,
    }
    return json.dumps(document, indent=2)


# ---- ConfirmSubscription -----------------------------------------------------------------------------------


def confirmed(params: dict[str, Any], output: dict[str, Any], now: float) -> None:
    """After ConfirmSubscription ran (moto checked only that the topic exists, and answered a made-up ARN):
    the token must be one issued, less than two days ago, for a subscription of this very topic — the topic the
    call was authorized on. Its subscription is then confirmed and its ARN answered (in place)."""
    from moto.sns.models import sns_backends

    topic, token = str(params.get("TopicArn")), params.get("Token")
    parts = topic.split(":")
    found = None
    if isinstance(token, str) and token and len(parts) == 6:
        try:
            subscriptions = list(sns_backends[parts[4]][parts[3]].subscriptions.values())
        except KeyError:
            subscriptions = []
        with _lock:
            for subscription in subscriptions:
                state = _states.get(subscription)
                if state is None or subscription.topic.arn != topic:
                    continue
                for issued_token, issued in state.tokens.items():
                    if hmac.compare_digest(issued_token, token) and now - issued < TOKEN_LIFETIME:
                        state.confirmed = True
                        found = subscription
                        break
                if found is not None:
                    break
    if found is None:
        raise ServiceError("InvalidParameter", "Invalid parameter: Token", 400)
    output["SubscriptionArn"] = str(found.arn)


# ---- what the backend's replies show -----------------------------------------------------------------------


def shown(operation: str, params: dict[str, Any], output: dict[str, Any]) -> None:
    """A pending subscription as AWS shows it: "PendingConfirmation" in listings, PendingConfirmation "true" in
    its attributes (in place)."""
    if operation in ("ListSubscriptions", "ListSubscriptionsByTopic"):
        for entry in output.get("Subscriptions") or []:
            arn = entry.get("SubscriptionArn") if isinstance(entry, dict) else None
            subscription = _subscription(arn) if isinstance(arn, str) else None
            if subscription is not None and _pending(subscription):
                entry["SubscriptionArn"] = PENDING_LISTED
    elif operation == "GetSubscriptionAttributes":
        subscription = _subscription(str(params.get("SubscriptionArn")))
        attributes = output.get("Attributes")
        if subscription is not None and isinstance(attributes, dict):
            attributes["PendingConfirmation"] = "true" if _pending(subscription) else "false"


def after(operation: str, params: dict[str, Any], output: dict[str, Any], subscriber: str, send: Send) -> None:
    """The confirmation rule applied to an SNS call the embedded backend has just executed, before its reply is
    serialized: `params` as executed, `subscriber` the authorized caller's account."""
    now = taped(time.time)  # a replay reads back the time of the call (journal.py)
    if operation == "Subscribe":
        owned_by_subscriber(output, subscriber)  # the subscriber's, not the topic owner's (region/account round 7)
        subscribed(params, output, subscriber, send, now)
    elif operation == "ConfirmSubscription":
        confirmed(params, output, now)
    else:
        shown(operation, params, output)


# ---- snapshots of the data plane (dataplane/snapshots.py) -------------------------------------------------------


def saved_states() -> list[tuple[Any, _State]]:
    """Every subscription's confirmation state, to be pickled with moto's subscription objects themselves."""
    with _lock:
        return [(subscription, _State(state.confirmed, dict(state.tokens))) for subscription, state in _states.items()]


def restore_states(saved: list[tuple[Any, _State]]) -> None:
    """The states `saved_states` gave, against the subscription objects restored with them."""
    with _lock:
        _states.clear()
        for subscription, state in saved:
            _states[subscription] = state
