"""The invoke side: a function's resource-based policies, one per qualifier (unqualified, each version,
each alias), written only through AddPermission/RemovePermission and read with GetPolicy (spec §3.2–3.4;
https://docs.aws.amazon.com/lambda/latest/api/API_AddPermission.html)."""

from __future__ import annotations

import json
import re
from typing import Any

from lambdaperm.policy import PolicyError, PolicyType, parse_policy
from lambdaperm.protocol.errors import ServiceError
from lambdaperm.state import Records

from .. import principal_pins
from ..context import Output, Params, RequestContext
from . import store
from .errors import conflict, invalid, not_found, precondition_failed, validation
from .functions import ref_of
from .names import FunctionRef

POLICY_LIMIT = 20480
_PATTERNS = {
    "statementId": (r"([a-zA-Z0-9-_]+)", 100),
    "action": (r"(lambda:[*]|lambda:[a-zA-Z]+|[*])", None),
    "principal": (r"[^\s]+", None),
    "sourceArn": (r"arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:([a-z]{2}(-gov)?-[a-z]+-\d{1})?:(\d{12})?:(.*)", 1024),
    "sourceAccount": (r"\d{12}", 12),
    "eventSourceToken": (r"[a-zA-Z0-9._\-]+", 256),
    "principalOrgID": (r"^o-[a-z0-9]{10,32}$", 34),
}
_SERVICE_PRINCIPAL = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)*\.(amazonaws\.com|amazon\.com)(\.cn)?$")


def _check(value: object, member: str, pattern: str | None = None) -> None:
    regex, max_len = _PATTERNS[member]
    regex = pattern or regex
    if not isinstance(value, str) or not value or re.fullmatch(regex.strip("^$"), value, flags=re.ASCII) is None:
        raise validation(value, member, f"Member must satisfy regular expression pattern: {regex}")
    if max_len is not None and len(value) > max_len:
        raise validation(value, member, f"Member must have length less than or equal to {max_len}")


_INVALID_PRINCIPAL = "The provided principal was invalid. Please check the principal and try again."


def principal_element(principal: str) -> Any:
    if principal == "*":
        return "*"
    if re.fullmatch(r"\d{12}", principal, flags=re.ASCII):
        return {"AWS": f"arn:aws:iam::{principal}:root"}
    if re.match(r"^arn:aws[a-zA-Z-]*:(iam|sts)::\d{12}:", principal, flags=re.ASCII):
        return {"AWS": principal}
    if _SERVICE_PRINCIPAL.match(principal):
        return {"Service": principal}
    raise invalid(_INVALID_PRINCIPAL)


def build_statement(p: Params, resource: str) -> dict[str, Any]:
    statement: dict[str, Any] = {"Sid": p["StatementId"], "Effect": "Allow",
                                 "Principal": principal_element(p["Principal"]), "Action": p["Action"],
                                 "Resource": resource}
    equals: dict[str, str] = {}
    if p.get("SourceAccount"):
        equals["AWS:SourceAccount"] = p["SourceAccount"]
    if p.get("PrincipalOrgID"):
        equals["aws:PrincipalOrgID"] = p["PrincipalOrgID"]
    if p.get("EventSourceToken"):
        equals["lambda:EventSourceToken"] = p["EventSourceToken"]
    if p.get("FunctionUrlAuthType"):
        equals["lambda:FunctionUrlAuthType"] = p["FunctionUrlAuthType"]
    condition: dict[str, Any] = {}
    if equals:
        condition["StringEquals"] = equals
    if p.get("SourceArn"):
        condition["ArnLike"] = {"AWS:SourceArn": p["SourceArn"]}
    if p.get("InvokedViaFunctionUrl"):
        condition["Bool"] = {"lambda:InvokedViaFunctionUrl": "true"}
    if condition:
        statement["Condition"] = condition
    return statement


def document(statements: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Id": "default", "Statement": statements}, separators=(",", ":"))


def _revision_holder(fn: dict[str, Any], qualifier: str | None) -> dict[str, Any]:
    """Where the RevisionId that AddPermission/RemovePermission check and change lives."""
    holder: dict[str, Any]
    if qualifier is None:
        holder = fn["Latest"]
    elif qualifier in fn["Versions"]:
        holder = fn["Versions"][qualifier]
    else:
        holder = fn["Aliases"][qualifier]
    return holder


def add_permission(ctx: RequestContext, p: Params) -> Output:
    _check(p.get("StatementId"), "statementId")
    _check(p.get("Action"), "action")
    _check(p.get("Principal"), "principal")
    for member, param in (("sourceArn", "SourceArn"), ("sourceAccount", "SourceAccount"),
                          ("eventSourceToken", "EventSourceToken"), ("principalOrgID", "PrincipalOrgID")):
        if p.get(param) is not None:
            _check(p[param], member)
    if p.get("FunctionUrlAuthType") is not None and p["FunctionUrlAuthType"] not in ("NONE", "AWS_IAM"):
        raise validation(p["FunctionUrlAuthType"], "functionUrlAuthType",
                         "Member must satisfy enum value set: [NONE, AWS_IAM]")
    ref = ref_of(ctx, p)
    if ref.qualifier == store.LATEST:
        raise invalid("We currently do not support adding policies for $LATEST.")
    with ctx.records.db.transaction():
        fn = store.load(ctx.records, ref)
        if ref.qualifier is not None:
            store.resolve_qualifier(fn, ref)
        holder = _revision_holder(fn, ref.qualifier)
        if p.get("RevisionId") and p["RevisionId"] != holder["RevisionId"]:
            raise precondition_failed()
        slot = ref.qualifier or ""
        statements: list[dict[str, Any]] = fn["Policies"].get(slot, [])
        if any(s["Sid"] == p["StatementId"] for s in statements):
            raise conflict(f"The statement id ({p['StatementId']}) provided already exists. Please provide a new "
                           "statement id, or remove the existing statement.")
        statement = build_statement(p, ref.addressed_arn)
        pins, missing = principal_pins.pins_of(ctx.records, {"Statement": [statement]})
        if missing:
            raise invalid(_INVALID_PRINCIPAL)
        text = document([*statements, statement])
        size = len(text.encode())
        if size > POLICY_LIMIT:
            raise ServiceError("PolicyLengthExceededException",
                               f"The final policy size ({size}) is bigger than the limit ({POLICY_LIMIT}).", 400,
                               fields={"Type": "User"})
        try:
            parse_policy(text, PolicyType.RESOURCE)
        except PolicyError as err:
            raise invalid(f"The provided policy is invalid: {err.message}") from None
        fn["Policies"][slot] = [*statements, statement]
        fn.setdefault("PrincipalIds", {}).setdefault(slot, {})[p["StatementId"]] = pins
        holder["RevisionId"] = store.new_revision()
        store.save(ctx.records, fn)
    return {"Statement": json.dumps(statement, separators=(",", ":"))}


def remove_permission(ctx: RequestContext, p: Params) -> Output:
    sid = p.get("StatementId")
    _check(sid, "statementId", r"([a-zA-Z0-9-_.]+)")
    ref = ref_of(ctx, p)
    with ctx.records.db.transaction():
        fn = store.load(ctx.records, ref)
        slot, statements, holder = _policy_of(fn, ref, "No policy is associated with the given resource.")
        if p.get("RevisionId") and p["RevisionId"] != holder["RevisionId"]:
            raise precondition_failed()
        kept = [s for s in statements if s["Sid"] != sid]
        if len(kept) == len(statements):
            raise not_found(f"Statement {sid} is not found in resource policy.")
        if kept:
            fn["Policies"][slot] = kept
        else:
            del fn["Policies"][slot]
        fn.get("PrincipalIds", {}).get(slot, {}).pop(sid, None)
        holder["RevisionId"] = store.new_revision()
        store.save(ctx.records, fn)
    return {}


def get_policy(ctx: RequestContext, p: Params) -> Output:
    ref = ref_of(ctx, p)
    fn = store.load(ctx.records, ref)
    slot, statements, holder = _policy_of(fn, ref, "The resource you requested does not exist.")
    return {"Policy": document(_pinned(ctx.records, fn, slot, statements)), "RevisionId": holder["RevisionId"]}


def _policy_of(fn: dict[str, Any], ref: FunctionRef, missing: str) -> tuple[str, list[dict[str, Any]], dict[str, Any]]:
    """(policy slot, its statements, the RevisionId holder) of the qualifier a call addressed; `missing` is
    the 404 message when that qualifier has no policy ($LATEST shares the unqualified one)."""
    if ref.qualifier not in (None, store.LATEST):
        store.resolve_qualifier(fn, ref)
    slot = "" if ref.qualifier in (None, store.LATEST) else str(ref.qualifier)
    statements = fn["Policies"].get(slot)
    if not statements:
        raise not_found(missing)
    return slot, statements, _revision_holder(fn, slot or None)


def _pinned(records: Records, fn: dict[str, Any], slot: str, statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The statements as they apply now: a user or role named by a statement that is no longer the principal it
    was when the permission was added (deleted, or re-created) shows as the unique id it had, which names nobody;
    one without a recorded id (added before ids were recorded) names nobody either (principal_pins)."""
    ids: dict[str, dict[str, str]] = fn.get("PrincipalIds", {}).get(slot, {})
    out = []
    for statement in statements:
        doc = {"Statement": [statement]}
        now = principal_pins.pinned(records, doc, ids.get(statement.get("Sid", ""), {}))
        out.append(statement if now is doc else now["Statement"][0])
    return out


def policy_text(records: Records, fn: dict[str, Any], qualifier: str | None) -> str | None:
    """The resource policy that governs a call addressed to `qualifier` ($LATEST: the unqualified one), with the
    users and roles it names pinned to the ids they had when each permission was added."""
    slot = "" if qualifier in (None, store.LATEST) else str(qualifier)
    statements = fn["Policies"].get(slot)
    return document(_pinned(records, fn, slot, statements)) if statements else None
