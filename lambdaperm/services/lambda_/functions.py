"""Functions and versions: Create/Get/List/Update/Delete, PublishVersion, ListVersionsByFunction,
GetAccountSettings (spec §3.1; https://docs.aws.amazon.com/lambda/latest/api/)."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from ..context import Output, Params, RequestContext
from . import store
from .code_source import code_from_s3
from .config import ENI_ACTIONS, check_basics, check_role, check_zip
from .errors import conflict, function_not_found, invalid, precondition_failed
from .names import FunctionRef, parse_function
from .roles import assumable_role, calls, queue_url, role_account, role_allows
from .undelivered import refuse_dead_letter_target
from .unserved_settings import refuse_unserved_settings


def ref_of(ctx: RequestContext, p: Params, *, qualifier: bool = True) -> FunctionRef:
    """The function a request names. For an operation on the function itself (`qualifier=False`) a
    qualified name is refused: it was authorized on the qualified ARN and must not act on $LATEST."""
    ref = parse_function(p.get("FunctionName"), p.get("Qualifier") if qualifier else None,
                         account=ctx.account, region=ctx.region)
    if not qualifier and ref.qualifier is not None:
        raise invalid(f"This operation does not take a qualified function name: {p.get('FunctionName')}")
    return ref


def _code_bytes(ctx: RequestContext, code: dict[str, Any]) -> bytes:
    if code.get("ZipFile") is not None:
        return check_zip(code["ZipFile"])
    bucket, key = code.get("S3Bucket"), code.get("S3Key")
    if bucket and key:
        return check_zip(code_from_s3(ctx, bucket, key, code.get("S3ObjectVersion")))
    if code.get("ImageUri"):
        raise invalid("lambdaperm runs Zip packages only; container images are not supported.")
    raise invalid("Please provide a source for function code.")


def _vpc(ctx: RequestContext, p: Params, role: dict[str, Any], function_name: str) -> dict[str, Any] | None:
    vpc = p.get("VpcConfig")
    if not vpc or not (vpc.get("SubnetIds") or vpc.get("SecurityGroupIds")):
        return None
    if not (vpc.get("SubnetIds") and vpc.get("SecurityGroupIds")):
        # Lambda's answer (observed: aws/aws-sdk-js#1293); the VPC of half a configuration was shown to no
        # condition key (lambda:VpcIds is read from the subnets; condition keys review round 7)
        raise invalid("SubnetIds and SecurityIds must coexist or be both empty list.")
    subnets, groups = list(vpc.get("SubnetIds") or []), list(vpc.get("SecurityGroupIds") or [])
    vpc_id = ctx.env.vpc_of(ctx.account, ctx.region, subnets, groups)
    for action in ENI_ACTIONS:  # the calls Lambda makes with the role's session, as the endpoint decides them
        name = action.split(":", 1)[1]
        params: list[dict[str, Any]] = [{"NetworkInterfaceId": "*"}]
        if name == "CreateNetworkInterface":
            params = [{"SubnetId": subnet, "Groups": groups} for subnet in subnets]
        elif name == "DescribeNetworkInterfaces":
            params = [{}]
        needed = [n for one in params
                  for n in calls(ctx, "ec2", name, one, account=role_account(role), region=ctx.region)]
        if not role_allows(ctx, role, function_name, needed):
            raise invalid(f"The provided execution role does not have permissions to call {name} on EC2")
    return {"SubnetIds": subnets, "SecurityGroupIds": groups, "VpcId": vpc_id,
            "Ipv6AllowedForDualStack": bool(vpc.get("Ipv6AllowedForDualStack", False))}


def _dead_letter(ctx: RequestContext, p: Params, role: dict[str, Any], function_name: str) -> None:
    """A dead-letter queue or topic the execution role cannot write to is refused, at creation and at an update
    that names one (spec §3.7; https://docs.aws.amazon.com/lambda/latest/api/API_DeadLetterConfig.html)."""
    target = (p.get("DeadLetterConfig") or {}).get("TargetArn")
    if not target:
        return
    service = target.split(":")[2] if target.count(":") >= 5 else ""
    if service == "sqs":
        needed = calls(ctx, "sqs", "SendMessage", {"QueueUrl": queue_url(target), "MessageBody": "-"},
                       account=role_account(role), region=ctx.region)
        what = "SendMessage on SQS"
    elif service == "sns":
        needed = calls(ctx, "sns", "Publish", {"TopicArn": target, "Message": "-"}, account=role_account(role),
                       region=ctx.region)
        what = "Publish on SNS"
    else:
        raise invalid(f"The target arn {target} is not an SQS queue or SNS topic.")
    if not role_allows(ctx, role, function_name, needed):
        raise invalid(f"The provided execution role does not have permissions to call {what}")
    refuse_dead_letter_target(target)  # decided as AWS decides it, then 501: lambdaperm delivers no failed event


def _configuration(ctx: RequestContext, ref: FunctionRef, basics: dict[str, Any], role_arn: str, sha: tuple[str, str],
                   size: int, vpc: dict[str, Any] | None) -> dict[str, Any]:
    config = {
        "FunctionName": ref.name, "FunctionArn": ref.arn, "Runtime": basics["Runtime"], "Role": role_arn,
        "Handler": basics["Handler"], "CodeSize": size, "Description": basics["Description"],
        "Timeout": basics["Timeout"], "MemorySize": basics["MemorySize"], "LastModified": store.timestamp(ctx.now),
        "CodeSha256": sha[1], "Version": store.LATEST, "TracingConfig": {"Mode": "PassThrough"},
        "RevisionId": store.new_revision(), "State": "Active", "LastUpdateStatus": "Successful",
        "PackageType": "Zip", "Architectures": ["x86_64"], "EphemeralStorage": {"Size": 512},
        "LoggingConfig": {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{ref.name}"}, "_CodeHex": sha[0],
    }
    if basics.get("Environment"):
        config["Environment"] = basics["Environment"]
    if vpc:
        config["VpcConfig"] = vpc
    return config


def create_function(ctx: RequestContext, p: Params) -> Output:
    ref = parse_function(p.get("FunctionName"), None, account=ctx.account, region=ctx.region)
    if ref.qualifier is not None or ref.account != ctx.account:
        raise invalid("Invalid function name or ARN.")
    refuse_unserved_settings(p, ref.name)  # code signing, layers, keys, file systems, log groups: not served
    role_arn = check_role(ctx, p.get("Role"))
    basics = check_basics(p)
    role = assumable_role(ctx, role_arn, ref.arn)
    vpc = _vpc(ctx, p, role, ref.name)
    _dead_letter(ctx, p, role, ref.name)
    data = _code_bytes(ctx, p.get("Code") or {})
    sha = ctx.env.code.put(data)
    with ctx.records.db.transaction():
        if store.find(ctx.records, ref) is not None:
            raise conflict(f"Function already exist: {ref.name}")
        fn = {"Name": ref.name, "Region": ref.region, "Account": ref.account, "Arn": ref.arn,
              "Latest": _configuration(ctx, ref, basics, role_arn, sha, len(data), vpc), "Versions": {},
              "NextVersion": 1, "Aliases": {}, "Policies": {}, "Tags": dict(p.get("Tags") or {}), "Urls": {},
              "Mappings": {}, "Incarnation": store.new_revision()}
        if (p.get("DeadLetterConfig") or {}).get("TargetArn"):
            fn["Latest"]["DeadLetterConfig"] = {"TargetArn": p["DeadLetterConfig"]["TargetArn"]}
        if p.get("Publish"):
            _publish(fn, ctx, None, p.get("Description"))
        store.save(ctx.records, fn)
    out = store.public(fn["Latest"])
    if p.get("Publish"):  # the version's configuration under the function's unqualified ARN, as AWS answers it
        out = {**store.public(fn["Versions"][str(fn["NextVersion"] - 1)]), "FunctionArn": fn["Arn"]}
    return out


def _as_named(config: dict[str, Any], ref: FunctionRef) -> dict[str, Any]:
    """$LATEST named explicitly (Qualifier=$LATEST or `f:$LATEST`) is answered with the `:$LATEST` ARN, as AWS
    answers it; the unqualified name keeps the unqualified ARN
    (https://docs.aws.amazon.com/lambda/latest/api/API_GetFunction.html)."""
    out = store.public(config)
    if ref.qualifier == store.LATEST:
        out["FunctionArn"] = store.latest_arn(config)
    return out


def _latest_as_version(fn: dict[str, Any]) -> dict[str, Any]:
    """$LATEST listed among the versions (ListVersionsByFunction, ListFunctions FunctionVersion=ALL) carries the
    `:$LATEST` suffix (https://docs.aws.amazon.com/lambda/latest/api/API_ListVersionsByFunction.html)."""
    return {**store.public(fn["Latest"]), "FunctionArn": store.latest_arn(fn["Latest"])}


def _code_location(ctx: RequestContext, config: dict[str, Any]) -> dict[str, str]:
    return {"RepositoryType": "S3", "Location": ctx.env.code_url(config["_CodeHex"])}


def get_function(ctx: RequestContext, p: Params) -> Output:
    ref = ref_of(ctx, p)
    fn = store.load(ctx.records, ref)
    version, _alias = store.resolve_qualifier(fn, ref)
    config = store.config_of(fn, version)
    out: dict[str, Any] = {"Configuration": _as_named(config, ref), "Code": _code_location(ctx, config)}
    if fn["Tags"]:
        out["Tags"] = fn["Tags"]
    return out


def get_function_configuration(ctx: RequestContext, p: Params) -> Output:
    ref = ref_of(ctx, p)
    fn = store.load(ctx.records, ref)
    version, _alias = store.resolve_qualifier(fn, ref)
    return _as_named(store.config_of(fn, version), ref)


def _page(items: list[Any], p: Params, key: str) -> Output:
    start = int(p["Marker"]) if str(p.get("Marker") or "").isdigit() else 0
    size = p.get("MaxItems") or 50
    out: dict[str, Any] = {key: items[start : start + size]}
    if start + size < len(items):
        out["NextMarker"] = str(start + size)
    return out


def list_functions(ctx: RequestContext, p: Params) -> Output:
    configs = []
    for fn in ctx.records.list(store.FUNCTION, ctx.account):
        if fn["Region"] != ctx.region:
            continue
        if p.get("FunctionVersion") == "ALL":
            configs += [_latest_as_version(fn)] + [store.public(v) for v in fn["Versions"].values()]
        else:
            configs.append(store.public(fn["Latest"]))
    return _page(configs, p, "Functions")


def _check_revision(p: Params, current: str) -> None:
    if p.get("RevisionId") and p["RevisionId"] != current:
        raise precondition_failed()


def update_function_configuration(ctx: RequestContext, p: Params) -> Output:
    ref = ref_of(ctx, p, qualifier=False)
    fn = store.load(ctx.records, ref)
    refuse_unserved_settings(p, ref.name)  # code signing, layers, keys, file systems, log groups: not served
    latest = fn["Latest"]
    role_arn = check_role(ctx, p["Role"]) if p.get("Role") else latest["Role"]
    role = assumable_role(ctx, role_arn, ref.arn)
    basics = check_basics(p, latest)
    vpc = _vpc(ctx, p, role, ref.name) if "VpcConfig" in p else latest.get("VpcConfig")
    if "DeadLetterConfig" in p:  # checked as CreateFunction checks it, with the role the update leaves
        _dead_letter(ctx, p, role, ref.name)
    with ctx.records.db.transaction():
        fn = store.load(ctx.records, ref)
        _check_revision(p, fn["Latest"]["RevisionId"])
        latest = fn["Latest"]
        latest.update({k: basics[k] for k in ("Runtime", "Handler", "Timeout", "MemorySize", "Description")})
        latest["Role"] = role_arn
        if "Environment" in basics:
            latest["Environment"] = basics["Environment"]
        if vpc:
            latest["VpcConfig"] = vpc
        else:
            latest.pop("VpcConfig", None)
        if "DeadLetterConfig" in p:  # an empty TargetArn removes the target
            target = (p.get("DeadLetterConfig") or {}).get("TargetArn")
            if target:
                latest["DeadLetterConfig"] = {"TargetArn": target}
            else:
                latest.pop("DeadLetterConfig", None)
        latest["LastModified"] = store.timestamp(ctx.now)
        latest["RevisionId"] = store.new_revision()
        store.save(ctx.records, fn)
    ctx.env.evict(ref.arn)
    return store.public(latest)


def update_function_code(ctx: RequestContext, p: Params) -> Output:
    ref = ref_of(ctx, p, qualifier=False)
    store.load(ctx.records, ref)
    refuse_unserved_settings(p, ref.name)  # SourceKMSKeyArn: not served (implicit accesses review round 10)
    data = _code_bytes(ctx, p)
    if p.get("DryRun"):  # "validate the request parameters and access permissions without modifying the function
        # code" (API_UpdateFunctionCode): authorized and validated as any update; nothing stored or published
        fn = store.load(ctx.records, ref)
        _check_revision(p, fn["Latest"]["RevisionId"])
        digest = hashlib.sha256(data)
        return store.public({**fn["Latest"], "CodeSha256": base64.b64encode(digest.digest()).decode(),
                             "CodeSize": len(data)})
    sha = ctx.env.code.put(data)
    with ctx.records.db.transaction():
        fn = store.load(ctx.records, ref)
        _check_revision(p, fn["Latest"]["RevisionId"])
        latest = fn["Latest"]
        latest.update({"CodeSha256": sha[1], "_CodeHex": sha[0], "CodeSize": len(data),
                       "LastModified": store.timestamp(ctx.now), "RevisionId": store.new_revision()})
        out = store.public(latest)
        if p.get("Publish"):
            out = store.public(_publish(fn, ctx, None, None))
        store.save(ctx.records, fn)
    ctx.env.evict(ref.arn)
    return out


def _publish(fn: dict[str, Any], ctx: RequestContext, code_sha: str | None, description: str | None) -> dict[str, Any]:
    latest = fn["Latest"]
    if code_sha and code_sha != latest["CodeSha256"]:
        raise invalid(f"CodeSHA256 ({code_sha}) is different from current CodeSHA256 in $LATEST "
                      f"({latest['CodeSha256']}). Please try again with the CodeSHA256 in $LATEST.")
    if fn["Versions"]:
        newest = fn["Versions"][max(fn["Versions"], key=int)]  # the newest still there: numbers are never reused
        same = {k: v for k, v in newest.items() if k not in ("Version", "FunctionArn", "RevisionId", "LastModified",
                                                              "Description")}
        if same == {k: v for k, v in latest.items() if k in same} and description is None:
            return dict(newest)
    number = str(fn["NextVersion"])
    fn["NextVersion"] += 1
    version = dict(latest)
    version.update({"Version": number, "FunctionArn": f"{fn['Arn']}:{number}", "RevisionId": store.new_revision(),
                    "Description": description if description is not None else latest.get("Description", "")})
    fn["Versions"][number] = version
    latest["RevisionId"] = store.new_revision()
    return dict(version)


def publish_version(ctx: RequestContext, p: Params) -> Output:
    ref = ref_of(ctx, p, qualifier=False)
    with ctx.records.db.transaction():
        fn = store.load(ctx.records, ref)
        _check_revision(p, fn["Latest"]["RevisionId"])
        version = _publish(fn, ctx, p.get("CodeSha256"), p.get("Description"))
        store.save(ctx.records, fn)
    return store.public(version)


def list_versions_by_function(ctx: RequestContext, p: Params) -> Output:
    fn = store.load(ctx.records, ref_of(ctx, p, qualifier=False))
    versions = [_latest_as_version(fn)] + [store.public(v) for v in fn["Versions"].values()]
    return _page(versions, p, "Versions")


def delete_function(ctx: RequestContext, p: Params) -> Output:
    ref = ref_of(ctx, p)
    with ctx.records.db.transaction():
        fn = store.load(ctx.records, ref)
        if ref.qualifier in (None,):
            ctx.records.delete(store.FUNCTION, ref.account, store.key(ref))
        elif ref.qualifier == store.LATEST:
            raise invalid("$LATEST version cannot be deleted without deleting the function.")
        else:
            if ref.qualifier not in fn["Versions"]:
                raise function_not_found(ref.addressed_arn)
            users = [a for a, alias in fn["Aliases"].items() if alias["FunctionVersion"] == ref.qualifier]
            if users:
                raise conflict(f"Unable to delete version because the following aliases reference it: {users}")
            del fn["Versions"][ref.qualifier]
            fn["Policies"].pop(ref.qualifier, None)
            store.save(ctx.records, fn)
    ctx.env.evict(ref.arn)
    return {}


def get_account_settings(ctx: RequestContext, p: Params) -> Output:
    functions = [fn for fn in ctx.records.list(store.FUNCTION, ctx.account) if fn["Region"] == ctx.region]
    code_size = sum(fn["Latest"]["CodeSize"] + sum(v["CodeSize"] for v in fn["Versions"].values()) for fn in functions)
    return {"AccountLimit": {"TotalCodeSize": 80530636800, "CodeSizeUnzipped": 262144000,
                             "CodeSizeZipped": 52428800, "ConcurrentExecutions": 1000,
                             "UnreservedConcurrentExecutions": 1000},
            "AccountUsage": {"TotalCodeSize": code_size, "FunctionCount": len(functions)}}
