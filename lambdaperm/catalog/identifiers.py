"""Parsers for the resource identifiers AWS APIs accept in more than one shape.

Each returns template-variable bindings (and `Account`/`Region`/`Partition` when the identifier carries
them: a caller who names a resource by ARN in another account is asking for that account's resource).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping
from urllib.parse import unquote, urlsplit

from . import arns, reference, sqs_queue_hosts
from .arns import Bindings
from .params import lookup, strings, text

Parser = Callable[[Mapping[str, object]], Bindings]

# Lambda FunctionName: a name, `name:qualifier`, `123456789012:function:name[:qualifier]`, or a full ARN.
# Pattern from the Lambda API model (FunctionName / NamespacedFunctionName shapes).
_FUNCTION = re.compile(
    r"^(?:arn:(?P<partition>aws[a-zA-Z-]*)?:lambda:)?(?:(?P<region>[a-z]{2}(?:-gov)?-[a-z]+-\d{1}):)?"
    r"(?:(?P<account>\d{12}):)?(?:function:)?(?P<name>[a-zA-Z0-9\-_\.]+)"
    r"(?::(?P<qualifier>\$LATEST(?:\.PUBLISHED)?|[a-zA-Z0-9\-_]+))?$", re.ASCII
)


def lambda_function(params: Mapping[str, object], path: str = "FunctionName",
                    qualifier_path: str = "Qualifier") -> Bindings:
    """`FunctionName` (+ the `Qualifier` parameter) → FunctionName, QualifierSuffix, Alias/Version, Account.

    The ARN that gets authorized is the one the caller addressed: `function:f`, or `function:f:q` when a
    qualifier comes from the name or from `Qualifier` (spec §3.4).
    """
    values = strings(params, path)
    if not values:
        return {}
    match = _FUNCTION.match(values[0])
    if match is None:
        return {}
    qualifier = match.group("qualifier") or text(next(iter(lookup(params, qualifier_path)), None))
    out: Bindings = {"FunctionName": (match.group("name"),),
                     "QualifierSuffix": (f":{qualifier}" if qualifier else "",)}
    if qualifier:
        out["Alias"] = out["Version"] = (qualifier,)
    for var, group in (("Partition", "partition"), ("Region", "region"), ("Account", "account")):
        if match.group(group):
            out[var] = (match.group(group),)
    return out


def lambda_function_arn(params: Mapping[str, object], account: str, region: str, partition: str,
                        path: str = "FunctionName") -> str | None:
    """The full (possibly qualified) function ARN a `FunctionName` parameter denotes."""
    bound = lambda_function(params, path)
    if not bound:
        return None
    env = {"Partition": partition, "Region": region, "Account": account}
    env.update({k: v[0] for k, v in bound.items()})
    return (f"arn:{env['Partition']}:lambda:{env['Region']}:{env['Account']}:function:"
            f"{env['FunctionName']}{env['QualifierSuffix']}")


def _parse_with(prefix: str, type_name: str, arn: str) -> Bindings:
    resource = reference.resource_type(prefix, type_name)
    if resource is None:
        return {}
    return arns.parse(resource.arn, arn) or {}


def lambda_layer(params: Mapping[str, object]) -> Bindings:
    """`LayerName`: a layer name or a layer ARN (`arn:aws:lambda:r:a:layer:name`)."""
    values = strings(params, "LayerName")
    if not values:
        return {}
    if values[0].startswith("arn:"):
        return _parse_with("lambda", "layer", values[0])
    return {"LayerName": (values[0],)}


def sqs_queue_url(params: Mapping[str, object]) -> Bindings:
    """`QueueUrl` (`https://sqs.<region>.amazonaws.com/<account>/<name>`) → QueueName, Account, Region."""
    values = strings(params, "QueueUrl")
    if not values:
        return {}
    parts = urlsplit(values[0])
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) < 2 or not re.fullmatch(r"\d{12}", segments[-2], flags=re.ASCII):
        return {}
    out: Bindings = {"QueueName": (unquote(segments[-1]),), "Account": (segments[-2],)}
    try:  # the region the executor reads (sqs_queue_hosts; region/account review round 6)
        region = sqs_queue_hosts.named_region(parts.netloc)
    except sqs_queue_hosts.NotAnSqsHost:
        region = None  # refused before execution (dataplane.canonical_params)
    if region is not None:
        out["Region"] = (region,)
    return out


def sqs_task_handle(params: Mapping[str, object]) -> Bindings:
    """`TaskHandle` of a message move task: base64 JSON with the source queue's ARN (`sourceArn`).

    Source: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CancelMessageMoveTask.html
    """
    values = strings(params, "TaskHandle")
    if not values:
        return {}
    try:
        decoded = json.loads(base64.b64decode(values[0] + "=" * (-len(values[0]) % 4), validate=False))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return {}
    source = decoded.get("sourceArn") if isinstance(decoded, dict) else None
    return _parse_with("sqs", "queue", source) if isinstance(source, str) else {}


def sns_subscription(params: Mapping[str, object]) -> Bindings:
    """`SubscriptionArn` is the topic ARN plus `:<subscription id>`; the resource is the topic."""
    values = strings(params, "SubscriptionArn")
    if not values or values[0].count(":") < 6:
        return {}
    return _parse_with("sns", "topic", values[0].rsplit(":", 1)[0])


def s3_bucket(params: Mapping[str, object]) -> Bindings:
    """`Bucket`: a bucket name, or an access point ARN (`arn:aws:s3:r:a:accesspoint/name`)."""
    values = strings(params, "Bucket")
    if not values:
        return {}
    if values[0].startswith("arn:"):
        return _parse_with("s3", "accesspoint", values[0])
    return {"BucketName": (values[0],)}


def s3_key(params: Mapping[str, object]) -> Bindings:
    values = strings(params, "Key")
    return {"ObjectName": values} if values else {}


_VERSION_ID = re.compile(r"[?&]versionId=")


def s3_copy_source(params: Mapping[str, object]) -> Bindings:
    """`CopySource`: `bucket/key[?versionId=v]` (URL-encoded, optional leading `/`), or a map
    {Bucket, Key, VersionId}."""
    raw = next(iter(lookup(params, "CopySource")), None)
    if isinstance(raw, Mapping):
        bucket, key = text(raw.get("Bucket")), text(raw.get("Key"))
    elif isinstance(raw, str):
        source = raw.lstrip("/").split("?", 1)[0]
        bucket, _, key = source.partition("/")
        bucket, key = unquote(bucket), unquote(key)
    else:
        return {}
    if not bucket or not key:
        return {}
    if bucket.startswith("arn:"):
        # `arn:aws:s3:r:a:accesspoint/name/object/key`
        return _parse_with("s3", "accesspointobject", f"{bucket}/{key}")
    return {"BucketName": (bucket,), "ObjectName": (key,)}


def s3_copy_source_versioned(params: Mapping[str, object]) -> bool:
    """True when `CopySource` names a specific version of the source object."""
    raw = next(iter(lookup(params, "CopySource")), None)
    if isinstance(raw, Mapping):
        return bool(raw.get("VersionId"))
    return isinstance(raw, str) and _VERSION_ID.search(raw) is not None


def iam_name_with_path(var: str, name_param: str) -> Parser:
    """IAM `*NameWithPath`: the name, prefixed by the `Path` parameter when the request gives one."""

    def parse(params: Mapping[str, object]) -> Bindings:
        names = tuple(n for n in strings(params, name_param) if not n.startswith("arn:"))
        if not names:
            return {}
        path = next(iter(strings(params, "Path")), "/").strip("/")
        return {var: tuple(f"{path}/{n}" if path else n for n in names)}

    return parse


def iam_oidc_provider(params: Mapping[str, object]) -> Bindings:
    """CreateOpenIDConnectProvider `Url` → the provider name (host and path, without `https://`)."""
    values = strings(params, "Url")
    if not values:
        return {}
    url = values[0]
    name = url.split("://", 1)[1] if "://" in url else url
    return {"OidcProviderName": (name.rstrip("/"),)}


# Service-linked role names are chosen by each service; these are the documented ones for the services
# lambdaperm emulates or that Lambda users commonly create. Other services: AWSServiceRoleFor<Label>.
# Source: https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html
SERVICE_LINKED_ROLE_NAMES: dict[str, str] = {
    "lambda.amazonaws.com": "AWSServiceRoleForLambda",
    "replicator.lambda.amazonaws.com": "AWSServiceRoleForLambdaReplicator",
    "access-analyzer.amazonaws.com": "AWSServiceRoleForAccessAnalyzer",
    "cloudtrail.amazonaws.com": "AWSServiceRoleForCloudTrail",
    "organizations.amazonaws.com": "AWSServiceRoleForOrganizations",
    "elasticloadbalancing.amazonaws.com": "AWSServiceRoleForElasticLoadBalancing",
    "autoscaling.amazonaws.com": "AWSServiceRoleForAutoScaling",
    "ecs.amazonaws.com": "AWSServiceRoleForECS",
    "rds.amazonaws.com": "AWSServiceRoleForRDS",
    "dynamodb.application-autoscaling.amazonaws.com": "AWSServiceRoleForApplicationAutoScaling_DynamoDBTable",
}


def iam_service_linked_role(params: Mapping[str, object]) -> Bindings:
    """CreateServiceLinkedRole → `aws-service-role/<service>/<role name>[_<suffix>]`."""
    services = strings(params, "AWSServiceName")
    if not services:
        return {}
    service = services[0]
    label = service.split(".", 1)[0]
    name = SERVICE_LINKED_ROLE_NAMES.get(service) or "AWSServiceRoleFor" + "".join(
        part[:1].upper() + part[1:] for part in label.split("-"))
    suffix = next(iter(strings(params, "CustomSuffix")), "")
    return {"RoleNameWithPath": (f"aws-service-role/{service}/{name}{'_' + suffix if suffix else ''}",)}


def iam_deletion_task(params: Mapping[str, object]) -> Bindings:
    """`DeletionTaskId` = `task/aws-service-role/<service>/<role name>/<uuid>` names the role."""
    values = strings(params, "DeletionTaskId")
    if not values:
        return {}
    parts = values[0].split("/")
    if len(parts) >= 5 and parts[0] == "task" and parts[1] == "aws-service-role":
        return {"RoleNameWithPath": ("/".join(parts[1:-1]),)}
    return {}


def iam_mfa_serial(params: Mapping[str, object]) -> Bindings:
    """A hardware MFA `SerialNumber` (not an ARN) is the MFA token id."""
    names = tuple(s for s in strings(params, "SerialNumber") if not s.startswith("arn:"))
    return {"MfaTokenIdWithPath": names} if names else {}


def dynamodb_tables(*paths: str) -> Parser:
    """Table names at `paths`; a table ARN (DynamoDB accepts one as `TableName`) gives its own account."""

    def parse(params: Mapping[str, object]) -> Bindings:
        names: list[str] = []
        out: Bindings = {}
        for value in strings(params, *paths):
            if value.startswith("arn:"):
                parsed = _parse_with("dynamodb", "table", value)
                if not parsed:
                    continue
                out.update({k: v for k, v in parsed.items() if k != "TableName"})
                value = parsed["TableName"][0]
            if value not in names:
                names.append(value)
        if names:
            out["TableName"] = tuple(names)
        return out

    return parse
