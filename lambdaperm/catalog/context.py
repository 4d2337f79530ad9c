"""Request-specific condition keys read from the request parameters (a data table).

A key is set only when the action documents it (in the Service Authorization Reference: the action's own
keys and the keys of its resource types), `condition_keys.py` classifies it as read from the request
(REQUEST), and the request carries a value. Keys are lower-cased; values are tuples of strings (several for
multi-valued keys such as aws:TagKeys or lambda:SubnetIds). Global keys (aws:SourceIp, aws:PrincipalArn,
aws:SecureTransport...) come from the gateway, not from here; keys whose value lives with the resource
(tags, a table's key schema) from the authorizer. For `dynamodb:LeadingKeys` this module reads the key
attributes of the items a request touches (`dynamodb_key_items`): which of them is the partition key is
known only from the table, at decision time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl

from . import identifiers as ids
from .condition_keys import normalize
from .params import lookup, strings, text
from .s3_copy_source import condition_text as s3_copy_source_text

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
_TAG_PATHS = (
    "Tags",
    "tags",
    "TagsList",
    "TagSpecifications[].Tags",
    "CreateBucketConfiguration.Tags",
    "Tagging.TagSet",
)
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


def _copy_keeps_source_tags(params: Mapping[str, object]) -> bool:
    """A CopyObject whose `x-amz-tagging-directive` is not REPLACE (COPY is the default): S3 ignores its
    `x-amz-tagging` and the copy gets the source's tags ("If you choose COPY ... the tag-set will be copied from
    the source object directly", https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html)."""
    return params.get("CopySource") is not None and params.get("TaggingDirective") != "REPLACE"


def _object_tags(params: Mapping[str, object]) -> list[tuple[str, str]]:
    if _copy_keeps_source_tags(params):
        return []  # the header is not the tags the object gets (`uncertain_keys`)
    raw = next(iter(lookup(params, "Tagging")), None)
    if isinstance(raw, str):  # PutObject / CopyObject / CreateMultipartUpload: `k1=v1&k2=v2`
        return parse_qsl(raw, keep_blank_values=True)
    return [(k, v) for k, v in _tag_pairs({"Tagging": raw} if raw is not None else {}) if v is not None]


def _clashes(family: str, pairs: Sequence[tuple[str, str | None]]) -> list[str]:
    """`<family><key>` for every tag key the request gives twice with different values, in any case. Condition
    key names are case-insensitive, so `aws:RequestTag/Env` of a request setting `Env=prod` and `env=dev`
    (two tags to a service whose tag keys are case-sensitive) has no one value: it is unsupplied, never the
    value that happened to come last."""
    seen: dict[str, str | None] = {}
    out: list[str] = []
    for key, value in pairs:
        name = f"{family}{key.lower()}"
        if name in seen and seen[name] != value and name not in out:
            out.append(name)
        seen.setdefault(name, value)
    return out


def clashing_tag_keys(scopes: Sequence[object]) -> list[str]:
    """The aws:RequestTag/<key> and s3:RequestObjectTag/<key> names a request gives more than one value."""
    out: list[str] = []
    for scope in scopes:
        if isinstance(scope, Mapping):
            out += _clashes("aws:requesttag/", _tag_pairs(scope))
            out += _clashes("s3:requestobjecttag/", list(_object_tags(scope)))
    return out


def s3_object_tags(params: Mapping[str, object], env: Env) -> Context:
    return {f"s3:requestobjecttag/{k.lower()}": (v,) for k, v in _object_tags(params)}


def s3_object_tag_keys(params: Mapping[str, object], env: Env) -> Context:
    keys = tuple(dict.fromkeys(k for k, _ in _object_tags(params)))
    return {"s3:requestobjecttagkeys": keys} if keys else {}


def s3_copy_source(params: Mapping[str, object], env: Env) -> Context:
    """s3:x-amz-copy-source: `bucket/key` as sent in the header when it is also the object copied (dict form
    rendered the same way)."""
    raw = next(iter(lookup(params, "CopySource")), None)
    if isinstance(raw, Mapping):
        value = f"{raw.get('Bucket')}/{raw.get('Key')}"
        if raw.get("VersionId"):
            value += f"?versionId={raw.get('VersionId')}"
        return {"s3:x-amz-copy-source": (value,)}
    if not isinstance(raw, str):
        return {}
    value = s3_copy_source_text(raw)  # None: the header reads two ways (`uncertain_keys`)
    return {"s3:x-amz-copy-source": (value,)} if value is not None else {}


def lambda_function_arn(params: Mapping[str, object], env: Env) -> Context:
    arn = ids.lambda_function_arn(params, env.account, env.region, env.partition)
    return {"lambda:functionarn": (arn,)} if arn else {}


def ec2_region(params: Mapping[str, object], env: Env) -> Context:
    return {"ec2:region": (env.region,)}


# dynamodb:Attributes — the attribute names a request reads or writes: item and key maps, attribute lists,
# and the names in its expressions (with #placeholders resolved).
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html
_MAP_MEMBERS = (
    "Item",
    "Key",
    "ExclusiveStartKey",
    "AttributeUpdates",
    "Expected",
    "KeyConditions",
    "QueryFilter",
    "ScanFilter",
)
# Names that are not attributes: the expression language's functions (only when a `(` follows: `contains`,
# `size`... are not reserved words, so an attribute may carry that name unescaped), its operators (reserved
# words: they cannot name an attribute unescaped), and an UpdateExpression's clause keywords (when a path
# follows them). https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.OperatorsAndFunctions.html
_FUNCTIONS = frozenset(
    {
        "size",
        "if_not_exists",
        "list_append",
        "begins_with",
        "contains",
        "attribute_type",
        "attribute_exists",
        "attribute_not_exists",
    }
)
_OPERATORS = frozenset({"and", "or", "not", "between", "in"})
_CLAUSES = frozenset({"set", "remove", "add", "delete"})
_TOKEN = re.compile(r"\s*(#[A-Za-z0-9_]+|:[A-Za-z0-9_]+|[A-Za-z_][A-Za-z0-9_]*|\d+|.)", re.S | re.ASCII)


def _expression_names(expression: str, names: Mapping[str, object], update: bool = False) -> list[str]:
    """The top-level attribute names of an expression: the first name of every document path (a name after
    `.` is nested, a function name before `(` is not an attribute)."""
    tokens = [t for t in _TOKEN.findall(expression) if t.strip()]
    out: list[str] = []
    keywords: set[int] = set()
    for i, token in enumerate(tokens):
        if not (token[0] == "#" or token[0].isalpha() or token[0] == "_"):
            continue
        if i > 0 and tokens[i - 1] == ".":
            continue  # a nested name
        following = tokens[i + 1] if i + 1 < len(tokens) else ""
        lowered = token.lower()
        if token[0] != "#":
            if lowered in _FUNCTIONS and following == "(":
                continue
            if lowered in _OPERATORS:
                continue
            if update and lowered in _CLAUSES and _starts_clause(tokens, i, keywords):
                keywords.add(i)
                continue
        resolved = text(names.get(token)) if token[0] == "#" else token
        if resolved:
            out.append(resolved)
    return out


def _starts_clause(tokens: Sequence[str], i: int, keywords: set[int]) -> bool:
    """SET/REMOVE/ADD/DELETE at `i` is a clause keyword when a path follows it and it does not continue an
    action (it is first, or follows a complete action: not a `,`, an operator or another keyword)."""
    following = tokens[i + 1] if i + 1 < len(tokens) else ""
    if not (following[:1] in ("#", "_") or following[:1].isalpha()):
        return False
    return i == 0 or (tokens[i - 1] not in (",", "=", "(", "+", "-", ".", "[") and i - 1 not in keywords)


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
                out.extend(_expression_names(child, names, update=key == "UpdateExpression"))
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
    "s3:x-amz-acl": "ACL",
    "s3:x-amz-grant-full-control": "GrantFullControl",
    "s3:x-amz-grant-read": "GrantRead",
    "s3:x-amz-grant-read-acp": "GrantReadACP",
    "s3:x-amz-grant-write": "GrantWrite",
    "s3:x-amz-grant-write-acp": "GrantWriteACP",
    "s3:x-amz-server-side-encryption": "ServerSideEncryption",
    "s3:x-amz-server-side-encryption-aws-kms-key-id": "SSEKMSKeyId",
    "s3:x-amz-storage-class": "StorageClass",
    "s3:x-amz-metadata-directive": "MetadataDirective",
    "s3:x-amz-object-ownership": "ObjectOwnership",
    "s3:if-match": "IfMatch",
    "s3:if-none-match": "IfNoneMatch",
    "s3:versionid": "VersionId",
    "s3:x-amz-server-side-encryption-customer-algorithm": "SSECustomerAlgorithm",
    "s3:x-amz-website-redirect-location": "WebsiteRedirectLocation",
    "s3:x-amz-bucket-namespace": "BucketNamespace",
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
    "s3:object-lock-retain-until-date": _param(
        "s3:object-lock-retain-until-date", "ObjectLockRetainUntilDate", "Retention.RetainUntilDate"
    ),
    "s3:object-lock-legal-hold": _param("s3:object-lock-legal-hold", "ObjectLockLegalHoldStatus", "LegalHold.Status"),
    "s3:requestobjecttag/<key>": s3_object_tags,
    "s3:requestobjecttagkeys": s3_object_tag_keys,
    "s3:inventoryaccessibleoptionalfields": _param(
        "s3:inventoryaccessibleoptionalfields", "InventoryConfiguration.OptionalFields[]"
    ),
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
    "iam:servicespecificcredentialservicename": _param("iam:servicespecificcredentialservicename", "ServiceName"),
    "iam:servicespecificcredentialagedays": _param("iam:servicespecificcredentialagedays", "CredentialAgeDays"),
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
    # https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/AWS-logs-and-resource-policy.html
    "logs:deliverydestinationresourcearn": _param(
        "logs:deliverydestinationresourcearn", "deliveryDestinationConfiguration.destinationResourceArn"
    ),
    "logs:loggeneratingresourcearns": _param("logs:loggeneratingresourcearns", "resourceArn"),
}
# The table above, keyed as `condition_keys` names keys (placeholders as `*`).
_EXTRACTORS: dict[str, Extractor] = {normalize(k): v for k, v in CONTEXT_KEYS.items()}


def has_extractor(key: str) -> bool:
    """Whether this module can read `key` (any spelling of a documented key) from a request."""
    return normalize(key) in _EXTRACTORS


def extract(keys: Sequence[str], scopes: Sequence[object], env: Env) -> Context:
    """The values of `keys` (normalized names) read from each scope in turn (later wins)."""
    out: Context = {}
    for scope in scopes:
        if not isinstance(scope, Mapping):
            continue
        for key in keys:
            extractor = _EXTRACTORS.get(key)
            if extractor is not None:
                out.update(extractor(scope, env))
    return out


_TRANSACTION_RETURN_VALUES = tuple(
    f"{kind}.ReturnValuesOnConditionCheckFailure" for kind in ("Put", "Update", "Delete", "ConditionCheck")
)


_READS = frozenset({"dynamodb:getitem", "dynamodb:batchgetitem", "dynamodb:query", "dynamodb:scan"})
_NAMED_READS = frozenset({"SPECIFIC_ATTRIBUTES", "COUNT"})


def _reads_unnamed_attributes(scope: Mapping[str, object]) -> bool:
    """A read that names no attributes returns whole items (or an index's projection): ALL_ATTRIBUTES or
    ALL_PROJECTED_ATTRIBUTES, explicit or by default."""
    get = scope.get("Get")
    target: Mapping[str, object] = get if isinstance(get, Mapping) else scope
    if target.get("ProjectionExpression") or target.get("AttributesToGet"):
        return False
    return target.get("Select") not in _NAMED_READS


def uncertain_keys(action: str, scope: object) -> list[str]:
    """Keys AWS documents for the action whose value the request does not tell:

    - `dynamodb:Attributes` of a read that names no attributes (no ProjectionExpression/AttributesToGet, Select
      neither SPECIFIC_ATTRIBUTES nor COUNT): it reads every attribute of the items, which are not known
      before they are read. (Without this, the attribute-restricting policy of the DynamoDB guide — ForAllValues
      on dynamodb:Attributes — would let a GetItem without a projection read every attribute.)
    - `dynamodb:ReturnValues` of a transaction element: it has only ReturnValuesOnConditionCheckFailure, and
      whether AWS reports that as ReturnValues is not documented (without it, the key is absent).
    - `s3:x-amz-copy-source` of a header whose URL-encoded text is not the object it names
      (`s3_copy_source.condition_text`).
    - `s3:RequestObjectTag/*` and `s3:RequestObjectTagKeys` of a CopyObject that sends `x-amz-tagging` under the
      COPY tagging directive (the default): S3 ignores the header and the copy gets its source's tags; whether
      AWS reads the ignored header for the keys is not documented (condition keys review round 6).
    """
    if not isinstance(scope, Mapping):
        return []
    out: list[str] = []
    if action.lower() in _READS and _reads_unnamed_attributes(scope):
        out.append("dynamodb:attributes")
    if any(lookup(scope, path) for path in _TRANSACTION_RETURN_VALUES):
        out.append("dynamodb:returnvalues")
    source = scope.get("CopySource")
    if isinstance(source, str) and s3_copy_source_text(source) is None:
        out.append("s3:x-amz-copy-source")
    if scope.get("Tagging") is not None and _copy_keeps_source_tags(scope):
        out += ["s3:requestobjecttag/<key>", "s3:requestobjecttagkeys"]
    return out
