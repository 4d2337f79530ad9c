"""Which resource a moto backend call touches: argument names and model objects → resource ARNs.

The ARNs are the ones IAM authorizes (the Service Authorization Reference's resource types), built from
the backend's own account and region (an ARN argument keeps the account and region it names):

- DynamoDB `arn:aws:dynamodb:R:A:table/T`, an index `table/T/index/I`; backups and other ARNs as given.
- S3 `arn:aws:s3:::B` and `arn:aws:s3:::B/K` (every version of an object is the object); a multipart
  upload is its object's; the touch carries the bucket's region and owner.
- SQS `arn:aws:sqs:R:A:Q`. SNS `arn:aws:sns:R:A:T`; a subscription is its topic's (IAM authorizes
  subscription actions on the topic).
- CloudWatch Logs `arn:aws:logs:R:A:log-group:G` and `arn:aws:logs:R:A:log-group:G:log-stream:S`.
- EC2 `arn:aws:ec2:R:A:TYPE/ID` for every VPC object id (`vpc-`, `subnet-`, `sg-`, `eni-`, `vpce-`, …),
  wherever an argument carries one.

Modes: a method named like a read (`get_`, `head_`, `list_`, `describe_`, `query`, `scan` …) reads what
it names, any other method writes it. An operation on an object, an index or a log stream only *reads*
its container (it looks the container up to reach the object). A method that names no resource at all
reads (`list`) the service's whole collection in its account and region; one that would change state
without naming what is an error of the oracle (it cannot tell what changed). Results: a model object
returned by a `create_*` method is a `create` touch (EC2's generated ids are known only from it), one
returned by another method a read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, NamedTuple

from .touches import CREATE, LIST, READ, WRITE

_READ_PREFIXES = (
    "get_",
    "head_",
    "list_",
    "describe_",
    "is_",
    "filter_",
    "select_",
    "check_",
    "query",
    "scan",
    "batch_get",
    "transact_get",
    "lookup",
    "search",
    "all_",  # EC2Backend.all_reservations (DescribeInstances)
)

EC2_ID = re.compile(r"^(vpc|subnet|sg|eni|vpce|rtb|igw|eigw|acl|sgr|dopt|pl|nat|eipalloc|tgw|pcx)-[0-9a-f]{8,17}$")
EC2_TYPES = {
    "vpc": "vpc",
    "subnet": "subnet",
    "sg": "security-group",
    "eni": "network-interface",
    "vpce": "vpc-endpoint",
    "rtb": "route-table",
    "igw": "internet-gateway",
    "eigw": "egress-only-internet-gateway",
    "acl": "network-acl",
    "sgr": "security-group-rule",
    "dopt": "dhcp-options",
    "pl": "prefix-list",
    "nat": "natgateway",
    "eipalloc": "elastic-ip",
    "tgw": "transit-gateway",
    "pcx": "vpc-peering-connection",
}


class Resolved(NamedTuple):
    arn: str
    mode: str
    account: str
    region: str
    arg: str
    source: bool = False


def method_mode(method: str) -> str:
    return READ if method.startswith(_READ_PREFIXES) else WRITE


def arn_scope(arn: str) -> tuple[str, str]:
    """(account, region) an ARN names."""
    parts = arn.split(":", 5)
    return (parts[4], parts[3]) if len(parts) == 6 else ("", "")


def scope_arn(service: str, account: str, region: str) -> str:
    """The ARN standing for all of a service's resources in one account and region (a `list` touch)."""
    return f"arn:aws:{service}:{region}:{account}:"


def arg_touches(service: str, backend: Any, method: str, args: dict[str, Any]) -> list[Resolved]:
    """The resources the arguments of `backend.method(**args)` name, with the mode of each."""
    mapper = _MAPPERS.get(service)
    return [] if mapper is None else mapper(backend, method, args, method_mode(method))


def result_touches(method: str, result: Any) -> list[Resolved]:
    """The resource a model object returned by `method` is (lists and other values name nothing)."""
    found = object_arn(result)
    if found is None:
        return []
    arn, account, region = found
    return [Resolved(arn, CREATE if method.startswith("create_") else READ, account, region, "result")]


def object_arn(obj: Any) -> tuple[str, str, str] | None:
    """(ARN, account, region) of a moto model object, or None for anything else."""
    name = type(obj).__name__
    module = type(obj).__module__
    if not module.startswith("moto."):
        return None
    if name == "Table" and hasattr(obj, "table_arn"):
        return str(obj.table_arn), str(obj.account_id), str(obj.region_name)
    if name == "FakeBucket":
        return f"arn:aws:s3:::{obj.name}", str(obj.account_id), str(obj.region_name)
    if name in ("FakeKey", "FakeDeleteMarker") and getattr(obj, "bucket_name", None):
        region = bucket_place(str(obj.bucket_name))
        return (
            f"arn:aws:s3:::{obj.bucket_name}/{obj.name}",
            region[0] or str(obj.account_id),
            region[1] or str(getattr(obj, "region_name", "")),
        )
    if name == "Queue" and module.startswith("moto.sqs"):
        return str(obj.queue_arn), str(obj.account_id), str(obj.region)
    if name == "Topic" and module.startswith("moto.sns"):
        account, region = arn_scope(str(obj.arn))
        return str(obj.arn), account, region
    if name == "Subscription" and module.startswith("moto.sns"):
        return object_arn(obj.topic)
    if name == "LogGroup" and module.startswith("moto.logs"):
        return _log_group(str(obj.region), str(obj.account_id), str(obj.name)), str(obj.account_id), str(obj.region)
    if name == "LogStream" and module.startswith("moto.logs"):
        group = obj.log_group
        arn = (
            f"{_log_group(str(group.region), str(group.account_id), str(group.name))}:log-stream:{obj.log_stream_name}"
        )
        return arn, str(group.account_id), str(group.region)
    if module.startswith("moto.ec2") and isinstance(getattr(obj, "id", None), str) and EC2_ID.match(obj.id):
        backend = getattr(obj, "ec2_backend", None)
        account = str(getattr(backend, "account_id", "") or getattr(obj, "owner_id", "") or "")
        region = str(getattr(backend, "region_name", "") or getattr(obj, "region", "") or "")
        return _ec2_arn(region, account, obj.id), account, region
    return None


def bucket_place(bucket: str) -> tuple[str, str]:
    """(owner account, region) of an existing bucket, ("", "") when no account has it."""
    from moto.s3.models import s3_backends

    owner = s3_backends.bucket_accounts.get(bucket)
    if owner is None:
        return "", ""
    found = s3_backends[owner[1]][owner[0]].buckets.get(bucket)
    return (owner[1], str(found.region_name)) if found is not None else ("", "")


# --- per service ---------------------------------------------------------------------------------------


def _dynamodb(backend: Any, method: str, args: dict[str, Any], mode: str) -> list[Resolved]:
    account, region = str(backend.account_id), str(backend.region_name)
    out: list[Resolved] = []
    index = args.get("index_name")
    names = ["table_name", "target_table_name", "source_table_name"]
    if method in ("create_table", "delete_table", "describe_table", "update_table"):
        names.append("name")
    for arg in names:
        value = args.get(arg)
        if not isinstance(value, str):
            continue
        arn = value if value.startswith("arn:") else f"arn:aws:dynamodb:{region}:{account}:table/{value}"
        acc, reg = arn_scope(arn)
        source = arg == "source_table_name"
        out.append(Resolved(arn, READ if (source or isinstance(index, str)) else mode, acc, reg, arg, source))
        if isinstance(index, str):
            out.append(Resolved(f"{arn}/index/{index}", mode, acc, reg, "index_name"))
    for arg in ("table_arn", "resource_arn", "backup_arn", "export_arn", "import_arn"):
        value = args.get(arg)
        if isinstance(value, str) and value.startswith("arn:"):
            acc, reg = arn_scope(value)
            read = arg == "backup_arn" and method.startswith("restore_")
            out.append(Resolved(value, READ if read else mode, acc, reg, arg, read))
    table = args.get("table")
    found = object_arn(table) if table is not None else None
    if found is not None:
        out.append(Resolved(found[0], mode, found[1], found[2], "table"))
    bucket = args.get("s3_bucket")  # ExportTableToPointInTime writes objects under the prefix of a bucket
    if isinstance(bucket, str):
        owner, where = bucket_place(bucket)
        prefix = args.get("s3_prefix")  # as moto joins it: `/x` writes `/x/AWSDynamoDB/…`
        key = f"{prefix}/AWSDynamoDB/" if prefix else "AWSDynamoDB/"
        out.append(Resolved(f"arn:aws:s3:::{bucket}/{key}", WRITE, owner, where, "s3_bucket"))
    return out


_S3_OBJECT_ARGS = ("key_name", "dest_key_name", "src_key_name", "key", "src_key", "objects", "multipart_id")


def _s3(backend: Any, method: str, args: dict[str, Any], mode: str) -> list[Resolved]:
    out: list[Resolved] = []
    on_object = any(args.get(a) is not None for a in _S3_OBJECT_ARGS)
    created_in = args.get("region_name") if method == "create_bucket" else None

    def bucket_touch(bucket: str, arg: str, source: bool) -> None:
        owner, region = bucket_place(bucket)
        if isinstance(created_in, str):  # the bucket a CreateBucket makes lives where it asks
            owner, region = str(backend.account_id), created_in
        touch_mode = READ if (on_object or source) else mode
        out.append(Resolved(f"arn:aws:s3:::{bucket}", touch_mode, owner, region, arg, source))

    def object_touch(bucket: str, key: str, arg: str, source: bool) -> None:
        owner, region = bucket_place(bucket)
        out.append(Resolved(f"arn:aws:s3:::{bucket}/{key}", READ if source else mode, owner, region, arg, source))

    for bucket_arg, key_arg, source in (
        ("bucket_name", "key_name", False),
        ("dest_bucket_name", "dest_key_name", False),
        ("src_bucket_name", "src_key_name", True),
    ):
        bucket = args.get(bucket_arg)
        if isinstance(bucket, str):
            bucket_touch(bucket, bucket_arg, source)
            key = args.get(key_arg)
            if isinstance(key, str):
                object_touch(bucket, key, key_arg, source)
    bucket_obj = args.get("bucket")
    if isinstance(bucket_obj, str):
        bucket_touch(bucket_obj, "bucket", False)
    elif bucket_obj is not None and type(bucket_obj).__name__ == "FakeBucket":
        bucket_touch(str(bucket_obj.name), "bucket", False)
    for arg, source in (("key", False), ("src_key", True)):
        found = object_arn(args.get(arg)) if args.get(arg) is not None else None
        if found is not None:
            out.append(Resolved(found[0], READ if source else mode, found[1], found[2], arg, source))
    bucket = args.get("bucket_name")
    objects = args.get("objects")
    if isinstance(bucket, str) and isinstance(objects, Iterable) and not isinstance(objects, str | bytes):
        for entry in objects:
            key = entry.get("Key") if isinstance(entry, dict) else getattr(entry, "name", None)
            if isinstance(key, str):
                object_touch(bucket, key, "objects", False)
    upload = args.get("multipart_id")
    if isinstance(bucket, str) and isinstance(upload, str):
        key = _multipart_key(bucket, upload)
        if key is not None:
            object_touch(bucket, key, "multipart_id", False)
    return out


def _multipart_key(bucket: str, upload: str) -> str | None:
    from moto.s3.models import s3_backends

    owner = s3_backends.bucket_accounts.get(bucket)
    if owner is None:
        return None
    found = s3_backends[owner[1]][owner[0]].buckets.get(bucket)
    multipart = None if found is None else found.multiparts.get(upload)
    return None if multipart is None else str(multipart.key_name)


def _sqs(backend: Any, method: str, args: dict[str, Any], mode: str) -> list[Resolved]:
    account, region = str(backend.account_id), str(backend.region_name)
    names = ["queue_name"] + (["name"] if method == "create_queue" else [])
    return [
        Resolved(f"arn:aws:sqs:{region}:{account}:{args[a]}", mode, account, region, a)
        for a in names
        if isinstance(args.get(a), str) and args[a]
    ]  # "" names no queue


def _sns(backend: Any, method: str, args: dict[str, Any], mode: str) -> list[Resolved]:
    account, region = str(backend.account_id), str(backend.region_name)
    out: list[Resolved] = []
    for arg in ("arn", "topic_arn", "resource_arn", "subscription_arn"):
        value = args.get(arg)
        if isinstance(value, str) and value.startswith("arn:"):
            arn = sns_resource(value)
            acc, reg = arn_scope(arn)
            out.append(Resolved(arn, mode, acc, reg, arg))
    if method == "create_topic" and isinstance(args.get("name"), str):
        out.append(Resolved(f"arn:aws:sns:{region}:{account}:{args['name']}", mode, account, region, "name"))
    topic = args.get("topic")
    found = object_arn(topic) if topic is not None else None
    if found is not None:
        out.append(Resolved(found[0], mode, found[1], found[2], "topic"))
    return out


def sns_resource(arn: str) -> str:
    """A subscription ARN (`arn:aws:sns:R:A:TOPIC:ID`) stands for its topic; other ARNs for themselves."""
    parts = arn.split(":")
    return ":".join(parts[:6]) if len(parts) == 7 and parts[2] == "sns" else arn


def _log_group(region: str, account: str, group: str) -> str:
    return f"arn:aws:logs:{region}:{account}:log-group:{group}"


def _logs(backend: Any, method: str, args: dict[str, Any], mode: str) -> list[Resolved]:
    account, region = str(backend.account_id), str(backend.region_name)
    out: list[Resolved] = []
    group = args.get("log_group_name", args.get("logGroupName"))
    streams: list[str] = []
    if isinstance(args.get("log_stream_name"), str):
        streams.append(args["log_stream_name"])
    if isinstance(args.get("log_stream_names"), list):
        streams += [s for s in args["log_stream_names"] if isinstance(s, str)]
    if isinstance(group, str):
        arn = _log_group(region, account, group)
        out.append(Resolved(arn, READ if streams else mode, account, region, "log_group_name"))
        out += [Resolved(f"{arn}:log-stream:{s}", mode, account, region, "log_stream_name") for s in streams]
    for name in args.get("log_group_names") or ():
        if isinstance(name, str):
            out.append(Resolved(_log_group(region, account, name), mode, account, region, "log_group_names"))
    for arg in ("arn", "resource_arn"):
        value = args.get(arg)
        if isinstance(value, str) and value.startswith("arn:"):
            arn = value[:-2] if value.endswith(":*") else value
            acc, reg = arn_scope(arn)
            out.append(Resolved(arn, mode, acc, reg, arg))
    # resources the backend keys by a name or id of their own (review round 26): their own ARN types
    kind = next((_LOGS_KINDS[k] for k in _LOGS_KINDS if k in method), None)
    for arg in ("name", "id", *_LOGS_NAMED):
        value = args.get(arg)
        own = _LOGS_NAMED.get(arg, kind if arg in ("name", "id") else None)
        if isinstance(value, str) and value and own is not None:
            arn = f"arn:aws:logs:{region}:{account}:{own}:{value}"
            out.append(Resolved(arn, mode, account, region, arg))
    value = args.get("delivery_destination_arn")  # CreateDelivery: the destination it links
    if isinstance(value, str) and value.startswith("arn:"):
        acc, reg = arn_scope(value)
        out.append(Resolved(value, READ, acc, reg, "delivery_destination_arn"))
    return out


# the Logs resource types the backend keys by a name or an id (in the order a method's name is matched), and the
# arguments that name one of a given type: `arn:aws:logs:R:A:<type>:<name or id>`
_LOGS_KINDS = {
    "delivery_destination": "delivery-destination",
    "delivery_source": "delivery-source",
    "delivery": "delivery",
    "destination": "destination",
}
_LOGS_NAMED = {
    "delivery_destination_name": "delivery-destination",
    "delivery_source_name": "delivery-source",
    "destination_name": "destination",
}


def _ec2_arn(region: str, account: str, ident: str) -> str:
    return f"arn:aws:ec2:{region}:{account}:{EC2_TYPES[ident.split('-', 1)[0]]}/{ident}"


def _ec2(backend: Any, method: str, args: dict[str, Any], mode: str) -> list[Resolved]:
    account, region = str(backend.account_id), str(backend.region_name)
    out: list[Resolved] = []
    for arg, value in args.items():
        values = value if isinstance(value, list | tuple | set | frozenset) else [value]
        for item in values:
            ident = item if isinstance(item, str) else getattr(item, "id", None)
            if (
                isinstance(ident, str)
                and EC2_ID.match(ident)
                and (isinstance(item, str) or type(item).__module__.startswith("moto.ec2"))
            ):
                out.append(Resolved(_ec2_arn(region, account, ident), mode, account, region, arg))
        if method.endswith("_key_pair") and arg in ("name", "key_name") and isinstance(value, str):  # `key-pair/NAME`
            out.append(Resolved(f"arn:aws:ec2:{region}:{account}:key-pair/{value}", mode, account, region, arg))
    return out


_MAPPERS = {"dynamodb": _dynamodb, "s3": _s3, "sqs": _sqs, "sns": _sns, "logs": _logs, "ec2": _ec2}

__all__ = ["CREATE", "LIST", "READ", "WRITE", "Resolved", "arg_touches", "object_arn", "result_touches"]
