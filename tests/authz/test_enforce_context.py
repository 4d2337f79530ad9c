"""`Authorizer.enforce`: every (action, resource) decision gets its own request context.

A key that describes one resource (aws:ResourceAccount, resource tags) must never carry over to the next
resource of the same call: a request naming a resource of the caller's account and one whose owner is
unknown would otherwise authorize the second with the first one's account.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from lambdaperm.authz import Authorizer
from lambdaperm.catalog import RequiredAction
from lambdaperm.policy import Caller, PrincipalKind
from lambdaperm.state.identity import Identity

ACCOUNT = "111122223333"
USER = Identity(Caller(f"arn:aws:iam::{ACCOUNT}:user/alice", PrincipalKind.USER, ACCOUNT, name="alice"), "AIDAALICE")


@dataclass
class Policies:
    identity: tuple[tuple[str, str], ...]
    boundary: str | None = None
    session: tuple[str, ...] = ()


@dataclass
class FakeSource:
    """A policy source with one identity policy and known bucket owners."""

    document: dict[str, object]
    owners: dict[str, str] = field(default_factory=dict)

    def identity_policies(self, identity: Identity) -> Policies:
        return Policies((("p", json.dumps(self.document)),))

    def resource_policy(self, action: str, resource: str) -> tuple[str, str | None] | None:
        return None

    def resource_account(self, resource: str) -> str | None:
        return self.owners.get(resource.removeprefix("arn:aws:s3:::").split("/", 1)[0])


def _allow_own_account() -> dict[str, object]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:ResourceAccount": ACCOUNT}},
            }
        ],
    }


def test_resource_account_does_not_leak_to_the_next_resource() -> None:
    source = FakeSource(_allow_own_account(), owners={"mine": ACCOUNT})
    authorizer = Authorizer(source)
    need = RequiredAction("s3:GetObject", ("arn:aws:s3:::mine/k", "arn:aws:s3:::unknown-owner/k"))
    denied = authorizer.enforce(USER, [need], {})
    assert denied is not None, "the second bucket was authorized with the first bucket's account"
    assert denied.resource == "arn:aws:s3:::unknown-owner/k"


def test_each_resource_alone_is_decided_on_its_own_account() -> None:
    source = FakeSource(_allow_own_account(), owners={"mine": ACCOUNT})
    authorizer = Authorizer(source)
    assert authorizer.enforce(USER, [RequiredAction("s3:GetObject", ("arn:aws:s3:::mine/k",))], {}) is None
    alone = authorizer.enforce(USER, [RequiredAction("s3:GetObject", ("arn:aws:s3:::unknown-owner/k",))], {})
    assert alone is not None


def test_the_callers_context_is_not_modified() -> None:
    source = FakeSource(_allow_own_account(), owners={"mine": ACCOUNT})
    context: dict[str, tuple[str, ...]] = {"aws:requestedregion": ("us-east-1",)}
    Authorizer(source).enforce(USER, [RequiredAction("s3:GetObject", ("arn:aws:s3:::mine/k",))], context)
    assert context == {"aws:requestedregion": ("us-east-1",)}
