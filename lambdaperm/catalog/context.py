"""Request-specific condition keys read from the request parameters (a data table).

A key is set only when the action documents it (in the Service Authorization Reference: the action's own
keys and the keys of its resource types) and the request carries a value. Keys are lower-cased; values are
tuples of strings (several for multi-valued keys such as aws:TagKeys or lambda:SubnetIds).
Global keys (aws:SourceIp, aws:PrincipalArn, aws:SecureTransport...) come from the gateway, not from here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl

from . import identifiers as ids
from .params import lookup, strings, text

Context = dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class Env:
    account: str
    region: str
    partition: str


Extractor = Callable[[Mapping[str, object], Env], Context]


def _param(key: str, *paths: str) -> Extractor:
    def extract(params: Mapping[str, object], env: Env) -> Context:
        values = strings(params, *paths)
        return {key: values} if values else {}

    return extract


# Tags come as [{Key, Value}] (IAM, STS, SNS, DynamoDB, CloudTrail, EC2), {key: value} (Lambda, SQS, Logs,
# Access Analyzer), or a list of keys (untag operations).
_TAG_PATHS = ("Tags", "tags", "TagsList", "TagSpecifications[].Tags", "CreateBucketConfiguration.Tags",
              "Tagging.TagSet")
_TAG_KEY_PATHS = ("TagKeys", "tagKeys")


def _tag_pairs(params: Mapping[str, object]) -> list[tuple[str, str | None]]:
    pairs: list[tuple[str, str | None]] = []
    for path in _TAG_PATHS:
        for found in lookup(params, path):
            if isinstance(found, Mapping):
                pairs.extend((str(k), text(v)) for k, v in found.items())
            elif isinstance(found, Sequence) and not isinstance(found, str | bytes):
                for item in found:
                    if isinstance(item, Mapping):
                        key = text(item.get("Key", item.get("key")))
                        if key is not None:
                            pairs.append((key, text(item.get("Value", item.get("value")))))
                    elif isinstance(item, str):
                        pairs.append((item, None))
    return pairs


def request_tags(params: Mapping[str, object], env: Env) -> Context:
    """aws:RequestTag/<key> for every tag the request sets."""
    return {f"aws:requesttag/{k.lower()}": (v,) for k, v in _tag_pairs(params) if v is not None}


def tag_keys(params: Mapping[str, object], env: Env) -> Context:
    """aws:TagKeys: the keys of the tags the request sets or removes (multi-valued)."""
    keys = tuple(dict.fromkeys([k for k, _ in _tag_pairs(params)] + list(strings(params, *_TAG_KEY_PATHS))))
    return {"aws:tagkeys": keys} if keys else {}


def _object_tags(params: Mapping[str, object]) -> list[tuple[str, str]]:
    raw = next(iter(lookup(params, "Tagging")), None)
    if isinstance(raw, str):  # PutObject / CopyObject / CreateMultipartUpload: `k1=v1&k2=v2`
        return parse_qsl(raw, keep_blank_values=True)
    return [(k, v) for k, v in _tag_pairs({"Tagging": raw} if raw is not None else {}) if v is not None]


def s3_object_tags(params: Mapping[str, object], env: Env) -> Context:
    return {f"s3:requestobjecttag/{k.lower()}": (v,) for k, v in _object_tags(params)}


def s3_object_tag_keys(params: Mapping[str, object], env: Env) -> Context:
    keys = tuple(dict.fromkeys(k for k, _ in _object_tags(params)))
    return {"s3:requestobjecttagkeys": keys} if keys else {}


def s3_copy_source(params: Mapping[str, object], env: Env) -> Context:
    """s3:x-amz-copy-source: `bucket/key` as sent in the header (dict form rendered the same way)."""
    raw = next(iter(lookup(params, "CopySource")), None)
    if isinstance(raw, Mapping):
        value = f"{raw.get('Bucket')}/{raw.get('Key')}"
        if raw.get("VersionId"):
            value += f"?versionId={raw.get('VersionId')}"
        return {"s3:x-amz-copy-source": (value,)}
    return {"s3:x-amz-copy-source": (raw.lstrip("/"),)} if isinstance(raw, str) else {}


def lambda_function_arn(params: Mapping[str, object], env: Env) -> Context:
    arn = ids.lambda_function_arn(params, env.account, env.region, env.partition)
    return {"lambda:functionarn": (arn,)} if arn else {}


def ec2_region(params: Mapping[str, object], env: Env) -> Context:
    return {"ec2:region": (env.region,)}


# dynamodb:Attributes — the attribute names a request reads or writes: item and key maps, attribute lists,
# and the names in its expressions (with #placeholders resolved).
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html
_MAP_MEMBERS = ("Item", "Key", "ExclusiveStartKey", "AttributeUpdates", "Expected", "KeyConditions",
                "QueryFilter", "ScanFilter")
_WORDS = frozenset({
    "set", "remove", "add", "delete", "and", "or", "not", "between", "in", "size", "if_not_exists",
    "list_append", "begins_with", "contains", "attribute_type", "attribute_exists", "attribute_not_exists",
})
_TOKEN = re.compile(r"#[A-Za-z0-9_]+|:[A-Za-z0-9_]+|[A-Za-z_][A-Za-z0-9_]*")


def _expression_names(expression: str, names: Mapping[str, object]) -> list[str]:
    out: list[str] = []
    for path in re.split(r"[,()=<>+\-\s]+|\bAND\b|\bOR\b", expression):
        tokens = _TOKEN.findall(path)
        if not tokens:
            continue
        head = tokens[0]
        if head.startswith(":") or head.lower() in _WORDS:
            heads = [t for t in tokens[1:] if not t.startswith(":") and t.lower() not in _WORDS][:1]
            if not heads:
                continue
            head = heads[0]
        resolved = text(names.get(head)) if head.startswith("#") else head
        if resolved:
            out.append(resolved)
    return out


def _collect_attributes(value: object, out: list[str]) -> None:
    if isinstance(value, Mapping):
        names = value.get("ExpressionAttributeNames")
        names = names if isinstance(names, Mapping) else {}
        for key, child in value.items():
            if key in _MAP_MEMBERS and isinstance(child, Mapping):
                out.extend(str(k) for k in child)
            elif key == "Keys" and isinstance(child, Sequence):
                out.extend(str(k) for item in child if isinstance(item, Mapping) for k in item)
            elif key == "AttributesToGet" and isinstance(child, Sequence):
                out.extend(str(a) for a in child)
            elif str(key).endswith("Expression") and isinstance(child, str):
                out.extend(_expression_names(child, names))
            elif key not in ("ExpressionAttributeValues", "ExpressionAttributeNames"):
                _collect_attributes(child, out)
    elif isinstance(value, Sequence) and not isinstance(value, str | bytes):
        for item in value:
            _collect_attributes(item, out)


def dynamodb_attributes(params: Mapping[str, object], env: Env) -> Context:
    found: list[str] = []
    _collect_attributes(params, found)
    values = tuple(dict.fromkeys(found))
    return {"dynamodb:attributes": values} if values else {}


_S3_HEADERS = {
    "s3:x-amz-acl": "ACL", "s3:x-amz-grant-full-control": "GrantFullControl",
    "s3:x-amz-grant-read": "GrantRead", "s3:x-amz-grant-read-acp": "GrantReadACP",
    "s3:x-amz-grant-write": "GrantWrite",
    "s3:x-amz-grant-write-acp": "GrantWriteACP", "s3:x-amz-server-side-encryption": "ServerSideEncryption",
    "s3:x-amz-server-side-encryption-aws-kms-key-id": "SSEKMSKeyId", "s3:x-amz-storage-class": "StorageClass",
    "s3:x-amz-metadata-directive": "MetadataDirective", "s3:x-amz-object-ownership": "ObjectOwnership",
    "s3:if-match": "IfMatch", "s3:if-none-match": "IfNoneMatch", "s3:versionid": "VersionId",
}

# Documented key (lower-cased) -> extractor. Sources: each service's page in the Service Authorization
# Reference ("Condition keys"), spec §1.7, and the service guides linked beside the entries.
CONTEXT_KEYS: dict[str, Extractor] = {
    "aws:requesttag/${tagkey}": request_tags,
    "aws:tagkeys": tag_keys,
    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html
    "s3:prefix": _param("s3:prefix", "Prefix"),
    "s3:delimiter": _param("s3:delimiter", "Delimiter"),
    "s3:max-keys": _param("s3:max-keys", "MaxKeys"),
    **{key: _param(key, member) for key, member in _S3_HEADERS.items()},
    "s3:x-amz-copy-source": s3_copy_source,
    "s3:locationconstraint": _param("s3:locationconstraint", "CreateBucketConfiguration.LocationConstraint"),
    "s3:object-lock-mode": _param("s3:object-lock-mode", "ObjectLockMode", "Retention.Mode"),
    "s3:object-lock-retain-until-date": _param("s3:object-lock-retain-until-date",
                                               "ObjectLockRetainUntilDate", "Retention.RetainUntilDate"),
    "s3:object-lock-legal-hold": _param("s3:object-lock-legal-hold", "ObjectLockLegalHoldStatus",
                                        "LegalHold.Status"),
    "s3:requestobjecttag/<key>": s3_object_tags,
    "s3:requestobjecttagkeys": s3_object_tag_keys,
    "s3express:sessionmode": _param("s3express:sessionmode", "SessionMode"),
    # https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html
    "dynamodb:attributes": dynamodb_attributes,
    "dynamodb:select": _param("dynamodb:select", "Select"),
    "dynamodb:returnvalues": _param("dynamodb:returnvalues", "ReturnValues"),
    "dynamodb:returnconsumedcapacity": _param("dynamodb:returnconsumedcapacity", "ReturnConsumedCapacity"),
    # spec §1.7; https://docs.aws.amazon.com/lambda/latest/dg/permissions-function-conditions.html
    "lambda:principal": _param("lambda:principal", "Principal"),
    "lambda:functionurlauthtype": _param("lambda:functionurlauthtype", "FunctionUrlAuthType", "AuthType"),
    "lambda:functionarn": lambda_function_arn,
    "lambda:subnetids": _param("lambda:subnetids", "VpcConfig.SubnetIds[]"),
    "lambda:securitygroupids": _param("lambda:securitygroupids", "VpcConfig.SecurityGroupIds[]"),
    "lambda:layer": _param("lambda:layer", "Layers[]"),
    "lambda:codesigningconfigarn": _param("lambda:codesigningconfigarn", "CodeSigningConfigArn"),
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html
    "iam:permissionsboundary": _param("iam:permissionsboundary", "PermissionsBoundary"),
    "iam:policyarn": _param("iam:policyarn", "PolicyArn"),
    "iam:awsservicename": _param("iam:awsservicename", "AWSServiceName"),
    "iam:organizationspolicyid": _param("iam:organizationspolicyid", "OrganizationsPolicyId"),
    "iam:servicespecificcredentialservicename":
        _param("iam:servicespecificcredentialservicename", "ServiceName"),
    "iam:servicespecificcredentialagedays": _param("iam:servicespecificcredentialagedays",
                                                   "CredentialAgeDays"),
    "sts:externalid": _param("sts:externalid", "ExternalId"),
    "sts:rolesessionname": _param("sts:rolesessionname", "RoleSessionName"),
    "sts:sourceidentity": _param("sts:sourceidentity", "SourceIdentity"),
    "sts:transitivetagkeys": _param("sts:transitivetagkeys", "TransitiveTagKeys[]"),
    "sts:durationseconds": _param("sts:durationseconds", "DurationSeconds"),
    "sts:identitytokenaudience": _param("sts:identitytokenaudience", "Audience[]"),
    "sts:signingalgorithm": _param("sts:signingalgorithm", "SigningAlgorithm"),
    "sts:taskpolicyarn": _param("sts:taskpolicyarn", "TaskPolicyArn.arn"),
    # https://docs.aws.amazon.com/sns/latest/dg/sns-using-identity-based-policies.html
    "sns:endpoint": _param("sns:endpoint", "Endpoint"),
    "sns:protocol": _param("sns:protocol", "Protocol"),
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html
    "ec2:region": ec2_region,
    "ec2:vpceservicename": _param("ec2:vpceservicename", "ServiceName"),
}


def documented(condition_keys: Sequence[str]) -> list[str]:
    """The documented keys this module can fill, lower-cased."""
    return [k.lower() for k in condition_keys if k.lower() in CONTEXT_KEYS]


def extract(keys: Sequence[str], scopes: Sequence[object], env: Env) -> Context:
    """The values of `keys` (documented, lower-cased) read from each scope in turn (later wins)."""
    out: Context = {}
    for scope in scopes:
        if not isinstance(scope, Mapping):
            continue
        for key in keys:
            out.update(CONTEXT_KEYS[key](scope, env))
    return out
