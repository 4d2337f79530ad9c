"""Managed policies: customer managed (stored) and AWS managed (from the catalog), versions, attachment.

https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-versioning.html
"""

from __future__ import annotations

from typing import Any

from lambdaperm.catalog import aws_managed_policies, aws_managed_policy
from lambdaperm.policy import PolicyType

from ..context import Output, Params, RequestContext
from . import store
from .documents import MANAGED_POLICY_QUOTA, encoded, validate
from .errors import already_exists, delete_conflict, invalid_input, limit_exceeded, no_such_entity
from .ids import unique_id
from .policy_owner import usable

MAX_VERSIONS = 5
MAX_ATTACHED = 10


def not_attachable(arn: str) -> Exception:
    return no_such_entity(f"Policy {arn} does not exist or is not attachable.")


def aws_policy_entity(arn: str) -> dict[str, Any] | None:
    mp = aws_managed_policy(arn)
    if mp is None:
        return None
    return {"PolicyName": mp.name, "PolicyId": "ANPA" + mp.name.upper()[:17].ljust(17, "X"), "Arn": mp.arn,
            "Path": mp.path, "DefaultVersionId": mp.default_version_id, "CreateDate": mp.create_date.isoformat(),
            "UpdateDate": mp.update_date.isoformat(), "IsAttachable": True, "Description": "",
            "Versions": [{"VersionId": mp.default_version_id, "CreateDate": mp.update_date.isoformat(),
                          "Document": _dump(mp.document)}], "Aws": True}


def _dump(doc: Any) -> str:
    import json

    return json.dumps(doc, indent=4) if not isinstance(doc, str) else doc


def find_policy(ctx: RequestContext, arn: str) -> dict[str, Any] | None:
    owner, _path, name = store.parse_policy_arn(arn)
    if not usable(arn, ctx.account):
        return None  # another account's policy: neither found nor attachable (policy_owner)
    if owner == "aws":
        return aws_policy_entity(arn)
    entity = store.find(ctx.records, store.POLICY, owner, name)
    if entity is None or entity["Arn"] != arn:
        return None
    return entity


def get_policy_entity(ctx: RequestContext, arn: str) -> dict[str, Any]:
    entity = find_policy(ctx, arn)
    if entity is None:
        raise no_such_entity(f"Policy {arn} was not found.")
    return entity


def default_document(entity: dict[str, Any]) -> str:
    for version in entity["Versions"]:
        if version["VersionId"] == entity["DefaultVersionId"]:
            return str(version["Document"])
    raise no_such_entity("The default version of the policy was not found.")


def attachment_count(ctx: RequestContext, arn: str) -> int:
    return sum(arn in e.get("AttachedPolicies", []) for kind in (store.USER, store.GROUP, store.ROLE)
               for e in ctx.records.list(kind, ctx.account))


def policy_out(ctx: RequestContext, entity: dict[str, Any]) -> dict[str, Any]:
    out = {k: entity[k] for k in ("PolicyName", "PolicyId", "Arn", "Path", "DefaultVersionId", "CreateDate",
                                  "UpdateDate")}
    out["AttachmentCount"] = attachment_count(ctx, entity["Arn"])
    out["PermissionsBoundaryUsageCount"] = sum(
        e.get("PermissionsBoundary") == entity["Arn"]
        for kind in (store.USER, store.ROLE) for e in ctx.records.list(kind, ctx.account))
    out["IsAttachable"] = True
    if entity.get("Description"):
        out["Description"] = entity["Description"]
    if entity.get("Tags"):
        out["Tags"] = store.tags_out(entity)
    return out


def create_policy(ctx: RequestContext, p: Params) -> Output:
    name = store.check_name(p.get("PolicyName"), "policyName", 128)
    path = store.check_path(p.get("Path"))
    doc = validate(p.get("PolicyDocument"), PolicyType.IDENTITY, max_size=MANAGED_POLICY_QUOTA, managed=True)
    with ctx.records.db.transaction():
        if store.find(ctx.records, store.POLICY, ctx.account, name):
            raise already_exists(f"A policy called {name} already exists. Duplicate names are not allowed.")
        now = ctx.now.isoformat()
        entity = {"PolicyName": name, "PolicyId": unique_id("ANPA"), "Path": path,
                  "Arn": f"arn:aws:iam::{ctx.account}:policy{path}{name}", "DefaultVersionId": "v1",
                  "CreateDate": now, "UpdateDate": now, "Description": p.get("Description", ""),
                  "Versions": [{"VersionId": "v1", "Document": doc, "CreateDate": now}],
                  "NextVersion": 2, "Tags": {t["Key"]: t["Value"] for t in p.get("Tags", [])}}
        store.save(ctx.records, store.POLICY, ctx.account, entity, "PolicyName")
    return {"Policy": policy_out(ctx, entity)}


def get_policy(ctx: RequestContext, p: Params) -> Output:
    return {"Policy": policy_out(ctx, get_policy_entity(ctx, p["PolicyArn"]))}


def delete_policy(ctx: RequestContext, p: Params) -> Output:
    arn = p["PolicyArn"]
    owner = store.parse_policy_arn(arn)[0]
    with ctx.records.db.transaction():
        entity = get_policy_entity(ctx, arn)
        if owner == "aws":
            raise invalid_input(f"Policy {arn} is an AWS managed policy and cannot be deleted.")
        in_use_as_boundary = any(e.get("PermissionsBoundary") == arn for kind in (store.USER, store.ROLE)
                                 for e in ctx.records.list(kind, ctx.account))
        if attachment_count(ctx, arn) or in_use_as_boundary:
            raise delete_conflict("Cannot delete a policy attached to entities.")
        ctx.records.delete(store.POLICY, ctx.account, entity["PolicyName"].lower())
    return {}


def list_policies(ctx: RequestContext, p: Params) -> Output:
    scope = p.get("Scope", "All")
    entities: list[dict[str, Any]] = []
    if scope in ("All", "AWS"):
        entities += [e for mp in aws_managed_policies() if (e := aws_policy_entity(mp.arn)) is not None]
    if scope in ("All", "Local"):
        entities += ctx.records.list(store.POLICY, ctx.account)
    entities = store.with_path_prefix(entities, p)
    if p.get("OnlyAttached"):
        attached = {a for kind in (store.USER, store.GROUP, store.ROLE)
                    for e in ctx.records.list(kind, ctx.account) for a in e.get("AttachedPolicies", [])}
        entities = [e for e in entities if e["Arn"] in attached]
    page = store.paginate(entities, p, "Policies")
    # Description and Tags: "not included in the response to the ListPolicies operation"
    # (https://docs.aws.amazon.com/IAM/latest/APIReference/API_Policy.html)
    page["Policies"] = [{k: v for k, v in policy_out(ctx, e).items() if k not in ("Description", "Tags")}
                        for e in page["Policies"]]
    return page


def _version_out(entity: dict[str, Any], version: dict[str, Any], with_doc: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"VersionId": version["VersionId"], "CreateDate": version["CreateDate"],
                           "IsDefaultVersion": version["VersionId"] == entity["DefaultVersionId"]}
    if with_doc:
        out["Document"] = encoded(str(version["Document"]))
    return out


def _find_version(entity: dict[str, Any], version_id: str) -> dict[str, Any]:
    for version in entity["Versions"]:
        if version["VersionId"] == version_id:
            return dict(version)
    raise no_such_entity(f"Policy {entity['Arn']} version {version_id} does not exist or is not attachable.")


def create_policy_version(ctx: RequestContext, p: Params) -> Output:
    doc = validate(p.get("PolicyDocument"), PolicyType.IDENTITY, max_size=MANAGED_POLICY_QUOTA, managed=True)
    with ctx.records.db.transaction():
        entity = _customer_policy(ctx, p["PolicyArn"])
        if len(entity["Versions"]) >= MAX_VERSIONS:
            raise limit_exceeded("A managed policy can have up to 5 versions. Before you create a new version, "
                                 "you must delete an existing version.")
        vid = f"v{entity['NextVersion']}"
        entity["NextVersion"] += 1
        entity["Versions"].append({"VersionId": vid, "Document": doc, "CreateDate": ctx.now.isoformat()})
        if p.get("SetAsDefault"):
            entity["DefaultVersionId"] = vid
        entity["UpdateDate"] = ctx.now.isoformat()
        store.save(ctx.records, store.POLICY, ctx.account, entity, "PolicyName")
    return {"PolicyVersion": _version_out(entity, entity["Versions"][-1], False)}


def _customer_policy(ctx: RequestContext, arn: str) -> dict[str, Any]:
    entity = get_policy_entity(ctx, arn)
    if entity.get("Aws"):
        raise invalid_input(f"Policy {arn} is an AWS managed policy and cannot be changed.")
    return entity


def get_policy_version(ctx: RequestContext, p: Params) -> Output:
    entity = get_policy_entity(ctx, p["PolicyArn"])
    return {"PolicyVersion": _version_out(entity, _find_version(entity, p["VersionId"]), True)}


def list_policy_versions(ctx: RequestContext, p: Params) -> Output:
    entity = get_policy_entity(ctx, p["PolicyArn"])
    versions = [_version_out(entity, v, False) for v in reversed(entity["Versions"])]
    return store.paginate(versions, p, "Versions")


def delete_policy_version(ctx: RequestContext, p: Params) -> Output:
    with ctx.records.db.transaction():
        entity = _customer_policy(ctx, p["PolicyArn"])
        version = _find_version(entity, p["VersionId"])
        if version["VersionId"] == entity["DefaultVersionId"]:
            raise delete_conflict("Cannot delete the default version of a policy.")
        entity["Versions"] = [v for v in entity["Versions"] if v["VersionId"] != version["VersionId"]]
        store.save(ctx.records, store.POLICY, ctx.account, entity, "PolicyName")
    return {}


def set_default_policy_version(ctx: RequestContext, p: Params) -> Output:
    with ctx.records.db.transaction():
        entity = _customer_policy(ctx, p["PolicyArn"])
        entity["DefaultVersionId"] = _find_version(entity, p["VersionId"])["VersionId"]
        entity["UpdateDate"] = ctx.now.isoformat()
        store.save(ctx.records, store.POLICY, ctx.account, entity, "PolicyName")
    return {}


def attach(kind: str, name_param: str) -> Any:
    def handler(ctx: RequestContext, p: Params) -> Output:
        arn = p["PolicyArn"]
        with ctx.records.db.transaction():
            entity = store.get(ctx.records, kind, ctx.account, p[name_param])
            if find_policy(ctx, arn) is None:
                raise not_attachable(arn)
            attached = entity.setdefault("AttachedPolicies", [])
            if arn not in attached:
                if len(attached) >= MAX_ATTACHED:
                    noun = {"iam.user": "User", "iam.group": "Group", "iam.role": "Role"}[kind]
                    raise limit_exceeded(f"Cannot exceed quota for PoliciesPer{noun}: {MAX_ATTACHED}")
                attached.append(arn)
                store.save(ctx.records, kind, ctx.account, entity, name_param)
        return {}
    return handler


def detach(kind: str, name_param: str) -> Any:
    def handler(ctx: RequestContext, p: Params) -> Output:
        arn = p["PolicyArn"]
        with ctx.records.db.transaction():
            entity = store.get(ctx.records, kind, ctx.account, p[name_param])
            if arn not in entity.get("AttachedPolicies", []):
                raise no_such_entity(f"Policy {arn} was not found.")
            entity["AttachedPolicies"].remove(arn)
            store.save(ctx.records, kind, ctx.account, entity, name_param)
        return {}
    return handler


def attached_out(ctx: RequestContext, arns: list[str]) -> list[dict[str, str]]:
    return [{"PolicyName": store.parse_policy_arn(a)[2], "PolicyArn": a} for a in arns]


def list_attached(kind: str, name_param: str) -> Any:
    def handler(ctx: RequestContext, p: Params) -> Output:
        entity = store.get(ctx.records, kind, ctx.account, p[name_param])
        arns = [a for a in entity.get("AttachedPolicies", [])
                if store.parse_policy_arn(a)[1].startswith(p.get("PathPrefix") or "/")]
        return store.paginate(attached_out(ctx, arns), p, "AttachedPolicies")
    return handler


def list_entities_for_policy(ctx: RequestContext, p: Params) -> Output:
    arn = p["PolicyArn"]
    get_policy_entity(ctx, arn)
    out: dict[str, Any] = {"PolicyGroups": [], "PolicyUsers": [], "PolicyRoles": [], "IsTruncated": False}
    for kind, key, name_field, id_field in ((store.GROUP, "PolicyGroups", "GroupName", "GroupId"),
                                            (store.USER, "PolicyUsers", "UserName", "UserId"),
                                            (store.ROLE, "PolicyRoles", "RoleName", "RoleId")):
        for e in ctx.records.list(kind, ctx.account):
            if arn in e.get("AttachedPolicies", []):
                out[key].append({name_field: e[name_field], id_field: e[id_field]})
    return out
