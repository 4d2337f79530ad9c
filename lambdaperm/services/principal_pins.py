"""Resource-based policies name IAM users and roles by their unique id, pinned when the policy is written.

AWS rule: "If your Principal element in a role trust policy contains an ARN that points to a specific IAM role,
then that ARN transforms to the role's unique principal ID when you save the policy. This helps mitigate the risk
of someone escalating their privileges by removing and recreating the role. … If you delete the role, then you
break the relationship. If you recreate the role, it has a new principal ID that does not match the ID stored in
the trust policy" — and the same holds for IAM users and for every resource-based policy (Lambda function, S3
bucket, SQS queue, SNS topic): the console and the Get* APIs then show the unique id in place of the ARN
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-roles,
https://aws.amazon.com/premiumsupport/knowledge-center/iam-resource-policy-format/).

Writing a policy whose Principal names a user or role that does not exist is refused by every service
(`missing`). Reading a policy for a decision replaces every user or role ARN whose current unique id is not the
one recorded at write time (deleted, or deleted and re-created) by the recorded id — a value that names nobody.
An ARN without a recorded id (a document that reached the resource another way, or state written before pins
existed) is replaced by `UNRECORDED`: it names nobody either (fail closed).

The data plane's pins are lambdaperm records keyed by the resource's ARN (namespace `policy.pins`, global
account): each successful write of the resource's policy replaces them, so a name the resource had before (a
deleted bucket's, queue's or topic's) has the pins of the last policy written to whatever holds it now.

Pins are kept with the digest of the document they were taken for, and read only for that document (persistence
review round 7). The durable data plane commits a policy write's journal entry with its trail record, after the
pins were written: a `kill -9` in between restores the resource's previous policy beside the new pins, and a user
or role deleted and created again since that policy was written would have been read as the one it named. The
record keeps the pins of the two last documents written; a document matching neither is read with none (every
user or role ARN in it names nobody: fail closed). A record without a digest (written before) is read as before.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from lambdaperm.policy.principals import arn_identity
from lambdaperm.state import Records

from .iam import store

NAMESPACE = "policy.pins"
_GLOBAL = ""
# A unique id that no principal has (the engine reads `A` + 3 letters + 12 or more [A-Z0-9] as a unique id of a
# deleted principal, which matches nobody)
UNRECORDED = {"user": "AIDA0UNRECORDED0PRINCIPAL", "role": "AROA0UNRECORDED0PRINCIPAL"}


def _statements(doc: object) -> list[dict[str, Any]]:
    if not isinstance(doc, dict):
        return []
    raw = doc.get("Statement", [])
    return [s for s in (raw if isinstance(raw, list) else [raw]) if isinstance(s, dict)]


def _aws_values(principal: object) -> list[str]:
    if not isinstance(principal, dict):
        return []
    values = principal.get("AWS", [])
    return [v for v in (values if isinstance(values, list) else [values]) if isinstance(v, str)]


def named(doc: object) -> list[str]:
    """Every IAM user or role ARN the Principal or NotPrincipal elements of `doc` (parsed JSON) name."""
    out: list[str] = []
    for stmt in _statements(doc):
        for field in ("Principal", "NotPrincipal"):
            for value in _aws_values(stmt.get(field)):
                key = arn_identity(value)
                if key is not None and key[0] in ("user", "role") and value not in out:
                    out.append(value)
    return out


def current_id(records: Records, arn: str) -> str | None:
    """The unique id (AIDA… / AROA…) of the user or role `arn` names now, or None when there is none."""
    key = arn_identity(arn)
    if key is None or key[0] not in ("user", "role"):
        return None
    kind = store.USER if key[0] == "user" else store.ROLE
    entity = store.find(records, kind, key[1], key[2])
    if entity is None:
        return None
    return str(entity["UserId" if kind == store.USER else "RoleId"])


def same_path(entity_arn: str, arn: str) -> bool:
    """Whether the user or role ARN `arn` names the entity whose ARN is `entity_arn` with its path: an ARN is
    resolved whole when a policy is saved (`user/ops/alice` does not name `/contractors/alice`;
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-arns)."""
    return entity_arn.split(":", 5)[-1].rpartition("/")[0] == arn.split(":", 5)[-1].rpartition("/")[0]


def saved_id(records: Records, arn: str) -> str | None:
    """The unique id a policy saved now pins for `arn`: the user or role it names, path included, or None."""
    found = current_id(records, arn)
    if found is None:
        return None
    key = arn_identity(arn)
    assert key is not None
    entity = store.find(records, store.USER if key[0] == "user" else store.ROLE, key[1], key[2])
    return found if entity is not None and same_path(str(entity["Arn"]), arn) else None


def pins_of(records: Records, doc: object) -> tuple[dict[str, str], list[str]]:
    """(unique id of each user or role `doc` names, the ARNs that name no existing user or role — a name at
    another path included)."""
    pins: dict[str, str] = {}
    missing: list[str] = []
    for arn in named(doc):
        found = saved_id(records, arn)
        if found is None:
            missing.append(arn)
        else:
            pins[arn] = found
    return pins, missing


def pinned(records: Records, doc: object, pins: Mapping[str, str]) -> Any:
    """`doc` as it applies now: each named user or role ARN whose current unique id is not its pin is replaced
    by the pin (or by `UNRECORDED` when it has none). The same object when nothing changes, else a copy."""
    stale: dict[str, str] = {}
    for arn in named(doc):
        saved = pins.get(arn)
        if saved is None:
            kind = arn_identity(arn)
            stale[arn] = UNRECORDED["user" if kind is not None and kind[0] == "user" else "role"]
        elif current_id(records, arn) != saved:
            stale[arn] = saved
    if not stale:
        return doc
    out = copy.deepcopy(doc)
    for stmt in _statements(out):
        for field in ("Principal", "NotPrincipal"):
            principal = stmt.get(field)
            if isinstance(principal, dict) and "AWS" in principal:
                values = principal["AWS"]
                if isinstance(values, list):
                    principal["AWS"] = [stale.get(v, v) if isinstance(v, str) else v for v in values]
                elif isinstance(values, str):
                    principal["AWS"] = stale.get(values, values)
    return out


def digest(text: str) -> str | None:
    """A digest of a JSON document's content (key order and white space aside), None when it is not JSON."""
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    return hashlib.sha256(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def record(records: Records, resource_arn: str, pins: Mapping[str, str], text: str | None = None) -> None:
    """Replace the pins of the data-plane resource `resource_arn` with those of the policy `text` just written
    (the previous document's pins are kept beside them, for a restart that restores that document)."""
    entry: dict[str, Any] = {"Pins": dict(pins)}
    if text is not None:
        entry["Digest"] = digest(text)
        before = records.get(NAMESPACE, _GLOBAL, resource_arn)
        if before is not None and "Digest" in before:
            entry["Prior"] = {"Pins": before.get("Pins", {}), "Digest": before["Digest"]}
    records.put(NAMESPACE, _GLOBAL, resource_arn, entry)


def _pins_for(saved: Mapping[str, Any] | None, text: str) -> Any:
    """The pins `saved` holds for the document `text`: those taken for it (its digest), else none; a record
    without a digest (written before digests were kept) holds the pins of whatever document the resource has."""
    if saved is None:
        return {}
    if "Digest" not in saved:
        return saved.get("Pins", {})
    found = digest(text)
    for candidate in (saved, saved.get("Prior")):
        if isinstance(candidate, Mapping) and candidate.get("Digest") == found:
            return candidate.get("Pins", {})
    return {}


def pinned_text(records: Records, resource_arn: str, text: str) -> str:
    """The data-plane policy `text` of `resource_arn` as it applies now (see `pinned`); unreadable JSON is
    returned as it is (the engine refuses it)."""
    try:
        doc = json.loads(text)
    except ValueError:
        return text
    if not named(doc):
        return text
    pins = _pins_for(records.get(NAMESPACE, _GLOBAL, resource_arn), text)
    out = pinned(records, doc, pins if isinstance(pins, dict) else {})
    return text if out is doc else json.dumps(out)
