"""An SNS subscription is the account's that called Subscribe, whichever account owns the topic.

SNS: `Owner` of a subscription is "The subscription's owner" — the account that subscribed — and ListSubscriptions
"Returns a list of the requester's subscriptions"
(https://docs.aws.amazon.com/sns/latest/api/API_Subscription.html,
https://docs.aws.amazon.com/sns/latest/api/API_ListSubscriptions.html,
https://docs.aws.amazon.com/sns/latest/api/API_GetSubscriptionAttributes.html: `Owner` "The Amazon Web Services
account ID of the subscription's owner"). A subscription to another account's topic (its policy allowing it) is
the subscriber's. The embedded backend runs Subscribe in the topic owner's account — the subscription must live
there, beside its topic, for Publish to reach it and for the topic owner's ListSubscriptionsByTopic — and so
recorded the topic owner as `Owner`, listed the subscription in the topic owner's ListSubscriptions and not in the
subscriber's (region and account confusion review round 7).

So, after Subscribe has run (inside its journaled unit, and on replay, with the authorized caller's account):
a subscription this call created gets the caller as its owner, once — a Subscribe answered with an existing
subscription (SNS does not create duplicates) leaves its owner as it was. ListSubscriptions lists the
subscriptions of the signed region, in every account's backend, whose owner is the requester (its own account's
first, in moto's order, then the others by account id). The topic owner keeps its rights on its topic's
subscriptions: ListSubscriptionsByTopic, GetSubscriptionAttributes and Unsubscribe still act in the topic's
account, decided as before.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

_CLAIMED = "_lambdaperm_owner_recorded"  # set on moto's subscription object: pickled with it in snapshots
_INSTALLED = False


def _subscription(arn: str) -> Any:
    """moto's subscription of that ARN (`<topic ARN>:<id>`, kept in the topic's account and region), or None."""
    from moto.sns.models import sns_backends

    parts = arn.split(":")
    if len(parts) != 7 or parts[0] != "arn" or parts[2] != "sns":
        return None
    regions = dict.get(sns_backends, parts[4])
    backend = dict.get(regions, parts[3]) if regions is not None else None
    return backend.subscriptions.get(arn) if backend is not None else None


def subscribed(output: dict[str, Any], subscriber: str) -> None:
    """After Subscribe ran: the subscription it created (not one it found) is `subscriber`'s. Call before the
    reply's SubscriptionArn is replaced (a pending confirmation)."""
    arn = output.get("SubscriptionArn")
    subscription = _subscription(arn) if isinstance(arn, str) else None
    if subscription is None or getattr(subscription, _CLAIMED, False):
        return
    setattr(subscription, _CLAIMED, True)
    if subscriber:
        subscription.owner = subscriber
        subscription.attributes["Owner"] = subscriber


def install() -> None:
    """Make moto's ListSubscriptions list the requester's subscriptions, in any account's topic (idempotent)."""
    global _INSTALLED
    if _INSTALLED:
        return
    from moto.sns.models import SNSBackend, sns_backends

    def list_subscriptions(self: Any, next_token: str | None = None) -> tuple[list[Any], int | None]:
        mine: OrderedDict[str, Any] = OrderedDict()
        others = sorted((a, r) for a, r in dict.items(sns_backends) if a != self.account_id)
        for backend in [self, *(dict.get(regions, self.region_name) for _, regions in others)]:
            for arn, subscription in backend.subscriptions.items() if backend is not None else ():
                if str(getattr(subscription, "owner", backend.account_id)) == self.account_id:
                    mine[arn] = subscription
        return self._get_values_nexttoken(mine, next_token)  # type: ignore[no-any-return]

    SNSBackend.list_subscriptions = list_subscriptions  # type: ignore[method-assign]
    _INSTALLED = True
