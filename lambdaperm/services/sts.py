"""STS: GetCallerIdentity, AssumeRole, GetSessionToken — and the resolution of any access key to the
identity it belongs to (root test keys, IAM user keys, temporary credentials).

https://docs.aws.amazon.com/STS/latest/APIReference/
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from lambdaperm.policy import Caller, PolicyError, PolicyType, PrincipalKind, parse_policy
from lambdaperm.protocol.errors import ServiceError
from lambdaperm.state import Records
from lambdaperm.state.identity import Identity

from .context import Handler, Output, Params, RequestContext
from .iam import store
from .iam.ids import access_key_id, secret_access_key, session_token
from .iam.policy_owner import usable
from .iam.principals import managed_document
from .session_policies import documents, reference

SESSION = "sts.session"
DEFAULT_ACCOUNT = "000000000000"
CHAINED_MAX_SECONDS = 3600
PACKED_POLICY_LIMIT = 2048
_SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,64}$", re.ASCII)


@dataclass(frozen=True, slots=True)
class KeyRecord:
    secret: str
    session_token: str | None
    expiration: datetime | None
    identity: Identity
    active: bool = True


def root_identity(account: str, key: str | None = None) -> Identity:
    return Identity(Caller(f"arn:aws:iam::{account}:root", PrincipalKind.ROOT, account), account, key)


def resolve_key(records: Records, key_id: str) -> KeyRecord | None:
    """The credential behind an access key id, or None if it is unknown.

    `test` is the root user of 000000000000 and a 12-digit key id the root user of that account (any
    secret is accepted for those, see `accepts_any_secret`); AKIA… keys are IAM users' keys; ASIA… keys
    are temporary credentials from STS.
    """
    if key_id == "test":
        return KeyRecord("", None, None, root_identity(DEFAULT_ACCOUNT, key_id))
    if re.fullmatch(r"\d{12}", key_id, flags=re.ASCII):
        return KeyRecord("", None, None, root_identity(key_id, key_id))
    key = records.get(store.ACCESS_KEY, store.GLOBAL, key_id)
    if key is not None:
        user = records.get(store.USER, key["Account"], key["UserName"].lower())
        if user is None:
            return None
        caller = Caller(user["Arn"], PrincipalKind.USER, key["Account"], name=user["UserName"])
        identity = Identity(caller, user["UserId"], key_id, user_name=user["UserName"], tags=dict(user.get("Tags", {})))
        return KeyRecord(key["SecretAccessKey"], None, None, identity, key["Status"] == "Active")
    session = records.get(SESSION, store.GLOBAL, key_id)
    if session is None:
        return None
    expiration = datetime.fromisoformat(session["Expiration"])
    identity = replace(_session_identity(session), session_policies=documents(records, session))  # read now
    return KeyRecord(session["SecretAccessKey"], session["SessionToken"], expiration, identity)


def accepts_any_secret(key_id: str) -> bool:
    return key_id == "test" or re.fullmatch(r"\d{12}", key_id, flags=re.ASCII) is not None


def _session_identity(s: dict[str, Any]) -> Identity:
    account = s["Account"]
    created = datetime.fromisoformat(s["Created"])
    expires = datetime.fromisoformat(s["Expiration"])
    if s["Kind"] == "root":
        root = root_identity(account, s["AccessKeyId"])
        return Identity(root.caller, account, s["AccessKeyId"], session_created=created, session_expires=expires)
    if s["Kind"] == "user":
        caller = Caller(s["UserArn"], PrincipalKind.USER, account, name=s["UserName"])
        return Identity(caller, s["UserId"], s["AccessKeyId"], user_name=s["UserName"], session_created=created,
                        session_expires=expires)
    arn = f"arn:aws:sts::{account}:assumed-role/{s['RoleName']}/{s['SessionName']}"
    caller = Caller(arn, PrincipalKind.ASSUMED_ROLE, account, role_arn=s["RoleArn"], name=s["RoleName"],
                    session=s["SessionName"])
    return Identity(caller, f"{s['RoleId']}:{s['SessionName']}", s["AccessKeyId"], role_name=s["RoleName"],
                    role_id=s["RoleId"], session_created=created, session_expires=expires, chained=s["Chained"],
                    tags=dict(s.get("Tags", {})), session_policies=tuple(s.get("SessionPolicies", [])),
                    source_identity=s.get("SourceIdentity"), source_function_arn=s.get("SourceFunctionArn"))


def get_caller_identity(ctx: RequestContext, p: Params) -> Output:
    ident = ctx.identity
    return {"UserId": ident.principal_id, "Account": ident.account, "Arn": ident.caller.arn}


def _credentials(ctx: RequestContext, seconds: int) -> dict[str, Any]:
    return {"AccessKeyId": access_key_id("ASIA"), "SecretAccessKey": secret_access_key(),
            "SessionToken": session_token(), "Expiration": ctx.now + timedelta(seconds=seconds)}


def _session_policies(ctx: RequestContext, p: Params) -> list[str | dict[str, str]]:
    """The inline session policy's document and references to the managed ones (read at each request:
    `session_policies`)."""
    docs: list[str | dict[str, str]] = []
    total = 0
    if p.get("Policy") is not None:
        try:
            parse_policy(p["Policy"], PolicyType.SESSION, max_size=10**6)
        except PolicyError as err:
            raise ServiceError("MalformedPolicyDocument", err.message, 400) from None
        docs.append(p["Policy"])
        total += len(json.dumps(json.loads(p["Policy"]), separators=(",", ":")))
    arns = [a.get("arn", "") for a in p.get("PolicyArns") or []]
    if len(arns) > 10:
        raise ServiceError("ValidationError", "1 validation error detected: Value at 'policyArns' failed to satisfy "
                           "constraint: Member must have length less than or equal to 10", 400)
    for arn in arns:
        doc = managed_document(ctx.records, arn)
        role_account = (str(p.get("RoleArn", "")).split(":") + [""] * 5)[4]
        if doc is None or not usable(arn, role_account):  # "must exist in the same account as the role"
            raise ServiceError("InvalidParameterValue", f"The policy {arn} does not exist or is not attachable.", 400)
        docs.append(reference(ctx.records, arn))
    if total > PACKED_POLICY_LIMIT:
        percent = total * 100 // PACKED_POLICY_LIMIT
        raise ServiceError("PackedPolicyTooLarge", f"Packed policy consumes {percent}% of allotted space, please "
                           "use smaller policy.", 400)
    return docs


def issue_role_session(records: Records, role: dict[str, Any], session_name: str, now: datetime, *,
                       seconds: int = 3600, chained: bool = False, policies: list[str | dict[str, str]] | None = None,
                       tags: dict[str, str] | None = None, source_identity: str | None = None,
                       transitive: list[str] | None = None, source_function: str | None = None) -> dict[str, Any]:
    """Create temporary credentials for a session of `role` (what AssumeRole returns, and what Lambda
    gives a function's code: the session named after the function, whose requests carry
    lambda:SourceFunctionArn = `source_function`,
    https://docs.aws.amazon.com/lambda/latest/dg/permissions-source-function-arn.html)."""
    creds = {"AccessKeyId": access_key_id("ASIA"), "SecretAccessKey": secret_access_key(),
             "SessionToken": session_token(), "Expiration": now + timedelta(seconds=seconds)}
    account = role["Arn"].split(":")[4]
    session = {"Kind": "assumed-role", "AccessKeyId": creds["AccessKeyId"], "SecretAccessKey": creds["SecretAccessKey"],
               "SessionToken": creds["SessionToken"], "Account": account, "RoleName": role["RoleName"],
               "RoleArn": role["Arn"], "RoleId": role["RoleId"], "SessionName": session_name,
               "Created": now.isoformat(), "Expiration": creds["Expiration"].isoformat(), "Chained": chained,
               "SessionPolicies": policies or [], "Tags": tags or {}, "SourceIdentity": source_identity,
               "TransitiveTagKeys": transitive or []}
    if source_function:
        session["SourceFunctionArn"] = source_function
    records.put(SESSION, store.GLOBAL, creds["AccessKeyId"], session)
    return creds


def _session_tags(ctx: RequestContext, p: Params, chained: bool) -> tuple[dict[str, str], list[str], str | None]:
    """(tags, transitive tag keys, source identity) of a new role session.

    https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html: tag keys are case-insensitive
    (`Department` and `department` cannot both be passed); a session obtained with another session's
    credentials inherits that session's transitive tags, and passing a tag with the same key as an inherited
    one fails; every transitive key must be one of the passed tags. The source identity of the calling
    session persists in the chain and cannot be changed
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_control-access_monitor.html).
    Error texts of the InvalidParameterValue answers are [unv] (observed by LocalStack's AWS snapshots)."""
    tags: dict[str, str] = {}
    for t in p.get("Tags") or []:
        if t["Key"].lower() in {k.lower() for k in tags}:
            raise ServiceError("InvalidParameterValue", "Duplicate tag keys found. Please note that Tag keys are "
                               "case insensitive.", 400)
        tags[t["Key"]] = t["Value"]
    if len(tags) > 50:
        raise ServiceError("ValidationError", "The number of session tags cannot exceed 50.", 400)
    passed = {k.lower() for k in tags}
    transitive = [str(k) for k in p.get("TransitiveTagKeys") or []]
    if any(k.lower() not in passed for k in transitive):
        raise ServiceError("InvalidParameterValue", "The specified transitive tag key must be included in the "
                           "requested tags.", 400)
    source_identity = p.get("SourceIdentity")
    caller = ctx.records.get(SESSION, store.GLOBAL, ctx.identity.access_key_id or "") if chained else None
    if caller is not None:
        inherited_keys = [str(k) for k in caller.get("TransitiveTagKeys", [])]
        if any(k.lower() in passed for k in inherited_keys):
            raise ServiceError("InvalidParameterValue", "One of the specified transitive tag keys can't be set "
                               "because it conflicts with a transitive tag key from the calling session.", 400)
        caller_tags = caller.get("Tags", {})
        inherited = {k.lower() for k in inherited_keys}  # a transitive key names its tag in any case
        for key, value in caller_tags.items():
            if key.lower() in inherited:
                tags[key] = value
        transitive = inherited_keys + [k for k in transitive if k.lower() not in {i.lower() for i in inherited_keys}]
        inherited_source = caller.get("SourceIdentity")
        if inherited_source:
            if source_identity and source_identity != inherited_source:
                raise ServiceError("InvalidParameterValue", "The source identity of a role chain cannot be "
                                   "changed.", 400)  # [unv] text
            source_identity = inherited_source
    return tags, transitive, source_identity


def assume_role(ctx: RequestContext, p: Params) -> Output:
    if ctx.identity.caller.kind is PrincipalKind.ROOT:
        # https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html: not with root credentials
        raise ServiceError("AccessDenied", "Roles may not be assumed by root accounts.", 403)
    role_arn = p["RoleArn"]
    name = p.get("RoleSessionName", "")
    if not _SESSION_NAME.match(name):
        raise ServiceError("ValidationError", f"1 validation error detected: Value '{name}' at 'roleSessionName' "
                           "failed to satisfy constraint: Member must satisfy regular expression pattern: "
                           "[\\w+=,.@-]*", 400)
    m = re.match(r"^arn:aws:iam::(\d{12}):role/(?:.*/)?([^/]+)$", role_arn, flags=re.ASCII)
    role = store.find(ctx.records, store.ROLE, m.group(1), m.group(2)) if m else None
    if role is None or role["Arn"] != role_arn:  # the path is part of the ARN: role/x/R is not role/R
        # authorization already ran against the (absent) trust policy; AWS answers the same way
        raise ServiceError("AccessDenied", f"User: {ctx.identity.caller.arn} is not authorized to perform: "
                           f"sts:AssumeRole on resource: {role_arn}", 403)
    chained = ctx.identity.caller.kind is PrincipalKind.ASSUMED_ROLE
    seconds = p.get("DurationSeconds", 3600)
    limit = CHAINED_MAX_SECONDS if chained else role["MaxSessionDuration"]
    if not isinstance(seconds, int) or seconds < 900:
        raise ServiceError("ValidationError", f"1 validation error detected: Value '{seconds}' at 'durationSeconds' "
                           "failed to satisfy constraint: Member must have value greater than or equal to 900", 400)
    if seconds > limit:
        message = ("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role "
                   "chaining." if chained and seconds <= role["MaxSessionDuration"] else
                   "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
        raise ServiceError("ValidationError", message, 400)
    policies = _session_policies(ctx, p)
    tags, transitive, source_identity = _session_tags(ctx, p, chained)
    creds = issue_role_session(ctx.records, role, name, ctx.now, seconds=seconds, chained=chained,
                               policies=policies, tags=tags, source_identity=source_identity,
                               transitive=transitive)
    account = role["Arn"].split(":")[4]
    with ctx.records.db.transaction():
        fresh = store.find(ctx.records, store.ROLE, account, role["RoleName"])
        if fresh is not None:
            fresh["RoleLastUsed"] = {"LastUsedDate": ctx.now.isoformat(), "Region": ctx.region}
            store.save(ctx.records, store.ROLE, account, fresh, "RoleName")
    out: dict[str, Any] = {
        "Credentials": creds,
        "AssumedRoleUser": {"AssumedRoleId": f"{role['RoleId']}:{name}",
                            "Arn": f"arn:aws:sts::{account}:assumed-role/{role['RoleName']}/{name}"},
    }
    if p.get("Policy") is not None:
        out["PackedPolicySize"] = len(json.dumps(json.loads(p["Policy"]), separators=(",", ":"))) * 100 \
            // PACKED_POLICY_LIMIT
    if p.get("SourceIdentity"):
        out["SourceIdentity"] = p["SourceIdentity"]
    return out


def get_session_token(ctx: RequestContext, p: Params) -> Output:
    ident = ctx.identity
    if ident.caller.kind not in (PrincipalKind.USER, PrincipalKind.ROOT) or ident.session_created is not None:
        raise ServiceError("AccessDenied", "Cannot call GetSessionToken with session credentials", 403)
    seconds = p.get("DurationSeconds", 43200)
    if not isinstance(seconds, int) or not 900 <= seconds <= 129600:
        raise ServiceError("ValidationError", f"1 validation error detected: Value '{seconds}' at 'durationSeconds' "
                           "failed to satisfy constraint: Member must have value between 900 and 129600", 400)
    creds = _credentials(ctx, seconds)
    if ident.caller.kind is PrincipalKind.USER:
        user = store.get(ctx.records, store.USER, ident.account, ident.caller.name)
        session = {"Kind": "user", "AccessKeyId": creds["AccessKeyId"], "SecretAccessKey": creds["SecretAccessKey"],
                   "SessionToken": creds["SessionToken"], "Account": ident.account, "UserName": user["UserName"],
                   "UserArn": user["Arn"], "UserId": user["UserId"], "Created": ctx.now.isoformat(),
                   "Expiration": creds["Expiration"].isoformat(), "Chained": False}
    else:
        session = {"Kind": "root", "AccessKeyId": creds["AccessKeyId"], "SecretAccessKey": creds["SecretAccessKey"],
                   "SessionToken": creds["SessionToken"], "Account": ident.account, "Created": ctx.now.isoformat(),
                   "Expiration": creds["Expiration"].isoformat(), "Chained": False}
    ctx.records.put(SESSION, store.GLOBAL, creds["AccessKeyId"], session)
    return {"Credentials": creds}


OPERATIONS: dict[str, Handler] = {
    "GetCallerIdentity": get_caller_identity,
    "AssumeRole": assume_role,
    "GetSessionToken": get_session_token,
}
