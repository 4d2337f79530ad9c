"""The session policies of a role session, as they apply now.

AWS rule: a managed session policy is passed to AssumeRole by reference ("A reference to the IAM managed policy
that is passed as a session policy",
https://docs.aws.amazon.com/STS/latest/APIReference/API_PolicyDescriptorType.html; the ARNs, not the documents,
are packed into the session, https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html), and "the
permissions assigned to temporary security credentials are evaluated each time a request is made that uses the
credentials" (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_control-access.html). So a
session keeps the ARNs of its managed session policies and their current default version is read at each
request: a policy narrowed after the session was issued narrows the session. A managed session policy that no
longer exists (or was deleted and created again: another policy) allows nothing — it is never dropped, which
would leave a session with no session policy at all, i.e. the role's whole permissions.
"""

from __future__ import annotations

from typing import Any

from lambdaperm.protocol.errors import ServiceError
from lambdaperm.state import Records

from .iam import store
from .iam.principals import ALLOWS_NOTHING, managed_document

POLICIES = "SessionPolicies"  # in a session record: each an inline document (JSON text) or a `reference`


def documents(records: Records, session: dict[str, Any]) -> tuple[str, ...]:
    """The session's policy documents now: each inline one as passed, each managed one's current default version
    (a session written before references were kept holds the managed documents' text: read as inline)."""
    docs: list[str] = []
    for item in session.get(POLICIES, []):
        if isinstance(item, str):
            docs.append(item)
            continue
        try:
            same = isinstance(item, dict) and _same_policy(records, item)
            doc = managed_document(records, str(item.get("Arn", ""))) if same else None
        except ServiceError:  # an ARN that is not a policy's (unreadable state): fail closed
            doc = None
        docs.append(doc if doc is not None else ALLOWS_NOTHING)
    return tuple(docs)


def reference(records: Records, arn: str) -> dict[str, str]:
    """What a session keeps of a managed session policy: its ARN and unique id (AWS managed policies: ARN only)."""
    entity = _entity(records, arn)
    return {"Arn": arn, "PolicyId": str(entity["PolicyId"]) if entity is not None else ""}


def _same_policy(records: Records, ref: dict[str, Any]) -> bool:
    if not ref.get("PolicyId"):
        return True  # an AWS managed policy: it has no customer-visible incarnation
    entity = _entity(records, str(ref.get("Arn", "")))
    return entity is not None and entity.get("PolicyId") == ref["PolicyId"]


def _entity(records: Records, arn: str) -> dict[str, Any] | None:
    owner, _path, name = store.parse_policy_arn(arn)
    if owner == "aws":
        return None
    entity = records.get(store.POLICY, owner, name.lower())
    return entity if entity is not None and entity.get("Arn") == arn else None
