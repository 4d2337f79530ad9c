"""SNS `lambda` subscriptions are delivered by lambdaperm, not by moto."""

from __future__ import annotations

from typing import Any


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
