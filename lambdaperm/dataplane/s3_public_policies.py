"""S3 Block Public Access of a bucket: on by default, and what each of its four settings does.

https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html

- "By default, new buckets, access points, and objects don't allow public access": since April 2023 every new bucket
  starts with BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy and RestrictPublicBuckets all true
  (https://aws.amazon.com/blogs/aws/heads-up-amazon-s3-security-changes-are-coming-in-april-of-2023/). The
  embedded backend's CreateBucket stores that block on the bucket (`install`), where PutPublicAccessBlock and
  DeletePublicAccessBlock change it: moto's bucket state, journaled and snapshotted like the rest of it.
- BlockPublicPolicy: PutBucketPolicy "fail[s] if the specified bucket policy allows public access" (403
  AccessDenied "Access Denied"; `check`).
- BlockPublicAcls: PutBucketAcl and PutObjectAcl fail if the ACL is public, and PutObject / CopyObject /
  CreateMultipartUpload if the request includes a public ACL (`check`). IgnorePublicAcls: lambdaperm grants nothing
  by ACL, so every ACL is already ignored.
- RestrictPublicBuckets: while the bucket's policy is public, "only AWS service principals and authorized users
  within the bucket owner's account" get access through it; "public and cross-account access within any public
  bucket policy, including non-public delegation to specific accounts, is blocked" (`restricted`).

"The meaning of public" (`is_public`): a bucket policy is public unless every Allow statement grants only to fixed
values — values without a wildcard or a policy variable — of a principal (an account, user, role or service
principal, never `*`) or of one of the keys S3 lists: aws:SourceArn, aws:SourceVpc, aws:SourceVpce,
aws:SourceOwner, aws:SourceAccount, aws:userid outside the pattern "AROLEID:*", s3:DataAccessPointArn,
s3:DataAccessPointAccount, s3:x-amz-server-side-encryption-aws-kms-key-id
(https://docs.aws.amazon.com/AmazonS3/latest/API/API_PublicAccessBlockConfiguration.html), and aws:SourceIp with
ranges no broader than /8 (IPv4) or /32 (IPv6). Read strictly where the pages are silent: a key constrains only under
an operator that requires its value (StringEquals, StringEqualsIgnoreCase, StringLike, ArnEquals, ArnLike, their
ForAnyValue: forms, IpAddress; never a negated operator or an ...IfExists one); aws:PrincipalOrgID and the
RFC 1918 exception of the IP rule are not read (such a policy counts as public: refused, never a wrong allow).
"""

from __future__ import annotations

import copy
import ipaddress
import json
from collections.abc import Mapping
from typing import Any

from lambdaperm.protocol.errors import ServiceError

_FIXING_KEYS = frozenset(
    {
        "aws:sourcearn",
        "aws:sourcevpc",
        "aws:sourcevpce",
        "aws:sourceowner",
        "aws:sourceaccount",
        "aws:userid",
        "s3:dataaccesspointarn",
        "s3:dataaccesspointaccount",
        "s3:x-amz-server-side-encryption-aws-kms-key-id",
    }
)
_REQUIRING = frozenset({"stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike"})
_PUBLIC_GROUPS = (
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
)
_PUBLIC_CANNED = frozenset({"public-read", "public-read-write", "authenticated-read"})
_ACL_OPERATIONS = frozenset({"PutBucketAcl", "PutObjectAcl", "PutObject", "CopyObject", "CreateMultipartUpload"})
_DENIED = ("AccessDenied", "Access Denied", 403)


def _values(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _fixed(value: Any) -> bool:
    return isinstance(value, str) and value != "" and not any(c in value for c in "*?") and "${" not in value


def _fixed_principal(statement: Mapping[str, Any]) -> bool:
    if "NotPrincipal" in statement:
        return False  # an Allow to everyone but someone
    principal = statement.get("Principal")
    if not isinstance(principal, Mapping) or not principal:
        return False  # "*" (or nothing readable): everyone
    return all(_fixed(v) for values in principal.values() for v in _values(values))


def _narrow_cidr(value: Any) -> bool:
    try:
        network = ipaddress.ip_network(str(value), strict=False)
    except ValueError:
        return False
    return network.prefixlen >= (8 if network.version == 4 else 32)


def _constrains(operator: str, key: str, values: Any) -> bool:
    op = operator.lower().removeprefix("foranyvalue:")
    listed = _values(values)
    if not listed:
        return False
    if key == "aws:sourceip":
        return op == "ipaddress" and all(_narrow_cidr(v) for v in listed)
    if key not in _FIXING_KEYS or op not in _REQUIRING:
        return False
    if key == "aws:userid":
        return all(_fixed(v) and not str(v).endswith(":*") for v in listed)
    return all(_fixed(v) for v in listed)


def _fixed_condition(statement: Mapping[str, Any]) -> bool:
    condition = statement.get("Condition")
    if not isinstance(condition, Mapping):
        return False
    return any(
        isinstance(operator, str)
        and isinstance(block, Mapping)
        and any(isinstance(k, str) and _constrains(operator, k.lower(), v) for k, v in block.items())
        for operator, block in condition.items()
    )


def _statements(document: Any) -> list[Mapping[str, Any]]:
    found = document.get("Statement") if isinstance(document, Mapping) else None
    return [s for s in _values(found) if isinstance(s, Mapping)]


def is_public(text: str) -> bool:
    """S3's "public" test of a bucket policy; text that is not a JSON policy counts as public (fail closed)."""
    try:
        document = json.loads(text)
    except (TypeError, ValueError):
        return True
    if not isinstance(document, Mapping):
        return True
    allows = [s for s in _statements(document) if s.get("Effect") != "Deny"]
    return any(not (_fixed_principal(s) or _fixed_condition(s)) for s in allows)


def restricted(text: str, owner: str) -> str:
    """A public policy as RestrictPublicBuckets leaves it: each Allow applies only to principals of `owner`'s account
    (aws:PrincipalAccount) or to AWS service principals (aws:PrincipalIsAWSService); Deny statements unchanged."""
    document = json.loads(text)
    kept: list[Any] = []
    for statement in _statements(document):
        if statement.get("Effect") == "Deny":
            kept.append(statement)
            continue
        for key, value in (("aws:PrincipalAccount", owner), ("aws:PrincipalIsAWSService", "true")):
            narrowed = {k: v for k, v in copy.deepcopy(dict(statement)).items() if k != "Sid"}
            condition = _with(narrowed.get("Condition"), key, value)
            if condition is not None:  # else: cannot be narrowed, so it grants nothing (fail closed)
                kept.append({**narrowed, "Condition": condition})
    document["Statement"] = kept
    return json.dumps(document)


def _with(condition: Any, key: str, value: str) -> dict[str, Any] | None:
    """`condition` AND `key` equal to `value`, under the first equality operator that does not test `key` yet."""
    merged = dict(condition) if isinstance(condition, Mapping) else {}
    operator = "Bool" if key == "aws:PrincipalIsAWSService" else "StringEquals"
    for candidate in (operator, f"{operator}IgnoreCase" if operator == "StringEquals" else "ForAnyValue:Bool"):
        block = merged.get(candidate)
        if block is None:
            merged[candidate] = {key: value}
            return merged
        if isinstance(block, Mapping) and not any(str(k).lower() == key.lower() for k in block):
            merged[candidate] = {**block, key: value}
            return merged
    return None


def block_of(bucket: str) -> Any:
    """The embedded backend's PublicAccessBlock of `bucket` (None: none, or no such bucket)."""
    from moto.s3.models import s3_backends

    owner = s3_backends.bucket_accounts.get(bucket)
    if owner is None:
        return None
    try:
        found = s3_backends[owner[1]][owner[0]].buckets.get(bucket)
    except Exception:  # an account or region moto does not hold: no bucket
        return None
    return getattr(found, "public_access_block", None)


def policy_for(bucket: str, owner: str, text: str) -> str:
    """The bucket policy `text` as it grants: restricted while RestrictPublicBuckets is on and the policy is public."""
    block = block_of(bucket)
    if block is not None and block.restrict_public_buckets and is_public(text):
        return restricted(text, owner)
    return text


def _public_acl(params: Mapping[str, Any]) -> bool:
    if str(params.get("ACL") or "").lower() in _PUBLIC_CANNED:
        return True
    grants = " ".join(str(params.get(m) or "") for m in params if isinstance(m, str) and m.startswith("Grant"))
    if any(group.lower() in grants.lower() for group in _PUBLIC_GROUPS):
        return True
    policy = params.get("AccessControlPolicy")
    listed = policy.get("Grants") if isinstance(policy, Mapping) else None
    for grant in listed if isinstance(listed, list) else []:
        grantee = grant.get("Grantee") if isinstance(grant, Mapping) else None
        if isinstance(grantee, Mapping) and str(grantee.get("URI") or "") in _PUBLIC_GROUPS:
            return True
    return False


def check(service: str, operation: str, params: Mapping[str, Any]) -> None:
    """403 AccessDenied for a public bucket policy under BlockPublicPolicy, a public ACL under BlockPublicAcls."""
    if service != "s3" or not isinstance(params.get("Bucket"), str):
        return
    if operation != "PutBucketPolicy" and operation not in _ACL_OPERATIONS:
        return
    block = block_of(params["Bucket"])
    if block is None:
        return
    if operation == "PutBucketPolicy":
        policy = params.get("Policy")
        if block.block_public_policy and is_public(policy.decode() if isinstance(policy, bytes) else str(policy)):
            raise ServiceError(*_DENIED)
    elif block.block_public_acls and _public_acl(params):
        raise ServiceError(*_DENIED)


def install() -> None:
    """Every bucket the embedded backend creates starts with all four settings on; once, idempotent."""
    from moto.s3.models import PublicAccessBlock, S3Backend

    if getattr(S3Backend.create_bucket, "_lambdaperm_blocked", False):
        return
    original = S3Backend.create_bucket

    def create_bucket(self: Any, *args: Any, **kwargs: Any) -> Any:
        bucket = original(self, *args, **kwargs)
        bucket.public_access_block = PublicAccessBlock("true", "true", "true", "true")
        return bucket

    create_bucket._lambdaperm_blocked = True  # type: ignore[attr-defined]
    S3Backend.create_bucket = create_bucket  # type: ignore[method-assign]
