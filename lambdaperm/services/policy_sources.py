"""The policies our own services hold, as the authorizer asks for them: an identity's policies (IAM),
a role's trust policy for sts:AssumeRole* (and later a Lambda function's resource policy)."""

from __future__ import annotations

import re
from typing import Any

from lambdaperm.state import Derived, Records
from lambdaperm.state.identity import Identity

from .iam import store
from .iam.principals import IdentityPolicies, policies_for, principal_tags
from .iam.roles import pinned_trust
from .lambda_ import store as lambda_store
from .lambda_.names import FunctionRef
from .lambda_.permissions import policy_text
from .sts import resolve_key

_ROLE_ARN = re.compile(r"^arn:aws:iam::(\d{12}):role/(?:.*/)?([^/]+)$", re.ASCII)
_FUNCTION_ARN = re.compile(r"^arn:aws:lambda:([a-z0-9-]+):(\d{12}):function:([a-zA-Z0-9-_.]+)(?::([^:]+))?$", re.ASCII)
# Actions authorized against the role's trust policy (https://docs.aws.amazon.com/IAM/latest/UserGuide/
# id_roles_manage-assume.html; sts:TagSession and sts:SetSourceIdentity are checked there too).
TRUST_ACTIONS = frozenset(
    {
        "sts:assumerole",
        "sts:assumerolewithwebidentity",
        "sts:assumerolewithsaml",
        "sts:tagsession",
        "sts:setsourceidentity",
    }
)


class ServicePolicies:
    """Answers from the records, memoized until the records change (the request path reads the same user,
    role and policies on every call)."""

    def __init__(self, records: Records) -> None:
        self.records = records
        self._cache = Derived(records)

    def identity_policies(self, identity: Identity) -> IdentityPolicies:
        key = ("policies", identity.caller, identity.principal_id, identity.role_id, identity.session_policies)
        return self._cache.get(key, lambda: policies_for(self.records, identity))  # type: ignore[no-any-return]

    def principal_tags(self, identity: Identity) -> dict[str, str]:
        key = ("tags", identity.caller, tuple(sorted(identity.tags.items())))
        return self._cache.get(key, lambda: principal_tags(self.records, identity))  # type: ignore[no-any-return]

    def key(self, key_id: str) -> Any:
        """The credential behind an access key id (sts.resolve_key), memoized."""
        return self._cache.get(("key", key_id), lambda: resolve_key(self.records, key_id))

    def resource_policy(self, action: str, resource: str) -> tuple[str, str | None] | None:
        if action.lower() in TRUST_ACTIONS:
            m = _ROLE_ARN.match(resource)
            if m:
                account, name = m.group(1), m.group(2).lower()

                def trust() -> str | None:
                    # The role is read inside the memo's compute, after `Derived` read the records' version: a
                    # trust read before a commit is filed under the version before it, never served after the
                    # write is acknowledged (races review round 15; round 14 found this safe only because every
                    # caller holds the role, gateway/iam_holds.py).
                    role = self.records.get(store.ROLE, account, name)
                    if role is None or role["Arn"] != resource:  # the path is part of the ARN
                        return None
                    return pinned_trust(self.records, role)

                return "trust", self._cache.get(("trust", resource), trust)
        m = _FUNCTION_ARN.match(resource)
        if m and action.lower().startswith("lambda:"):
            fn = lambda_store.find(self.records, FunctionRef(m.group(2), m.group(1), m.group(3), m.group(4)))
            text = policy_text(self.records, fn, m.group(4)) if fn is not None else None
            return ("resource", text) if text is not None else None
        return None

    def iam_entity_arn(self, kind: str, account: str, name: str) -> str | None:
        """The ARN (with its path) of the IAM user, group or role `name` (`kind` is its record kind: iam.user,
        iam.group, iam.role), or None when it does not exist. Names are unique per account whatever their case."""
        if kind not in (store.USER, store.GROUP, store.ROLE):
            raise ValueError(f"not an IAM entity kind with a path: {kind}")

        def compute() -> str | None:
            entity = self.records.get(kind, account, name.lower())
            return str(entity["Arn"]) if entity else None

        return self._cache.get(("iam-arn", kind, account, name.lower()), compute)  # type: ignore[no-any-return]
