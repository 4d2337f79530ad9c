"""Attack class: implicit accesses, review round 5 — accesses a service makes itself, on a caller's behalf or as
its own service principal, each authorized as AWS authorizes it.

Each test plays the attack against a real `lambdaperm serve` with real boto3 and asserts AWS's outcome. The
structural oracle (tests/structural) also checks *acted-on ⊆ authorized* when each test's server stops.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.security.iam_users import policy, user_keys

REGION = "us-east-1"


def allow(action: str | list[str], resource: str | list[str] = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def deny(action: str | list[str], resource: str | list[str] = "*") -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource}


def item_line(pk: str) -> bytes:
    return (json.dumps({"Item": {"pk": {"S": pk}}}) + "\n").encode()


def _import(ddb: Any, table: str, bucket: str, prefix: str | None = None) -> dict[str, Any]:
    source = {"S3Bucket": bucket, **({"S3KeyPrefix": prefix} if prefix is not None else {})}
    return ddb.import_table(  # type: ignore[no-any-return]
        S3BucketSource=source,
        InputFormat="DYNAMODB_JSON",
        TableCreationParameters={
            "TableName": table,
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )["ImportTableDescription"]


def _finished(ddb: Any, arn: str) -> dict[str, Any]:
    """The import's description once it is no longer IN_PROGRESS (bounded wait on a positive signal)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found: dict[str, Any] = ddb.describe_import(ImportArn=arn)["ImportTableDescription"]
        if found["ImportStatus"] != "IN_PROGRESS":
            return found
        time.sleep(0.05)
    raise AssertionError(f"import {arn} still in progress")


def _import_source(server: Endpoint, account: str, bucket: str) -> None:
    s3 = server.client("s3", key=account)
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="public/a.json", Body=item_line("public"))
    s3.put_object(Bucket=bucket, Key="secret/b.json", Body=item_line("secret"))


_IMPORTER = ["dynamodb:ImportTable", "dynamodb:DescribeImport", "dynamodb:Scan"]


def test_an_import_reads_only_objects_the_caller_may_get(make_server: Callable[..., Endpoint]) -> None:
    """ImportTable reads every object under `S3KeyPrefix` (every object of the bucket without one) as the caller,
    a forward access session of dynamodb.amazonaws.com: s3:ListBucket on the bucket and s3:GetObject on each
    object read (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/S3DataImport.Requesting.html,
    "You can import data from any Amazon S3 bucket you have permission to read from").
    Attack: a user allowed s3:GetObject on `public/*` only (and on the `AWSDynamoDB/` key lambdaperm used to
    check) imports the whole bucket; lambdaperm authorized one GetObject on the prefix, the backend read
    `secret/b.json` too, and the user Scans the secret row. AWS's outcome: the secret object is not read by the
    import; here the import is refused (AccessDeniedException) and no table holds the secret.
    """
    server = make_server()
    account = "777750000001"
    _import_source(server, account, "r5-import")
    user = user_keys(
        server,
        account,
        "importer",
        allow(_IMPORTER),
        allow("s3:ListBucket", "arn:aws:s3:::r5-import"),
        allow("s3:GetObject", ["arn:aws:s3:::r5-import/public/*", "arn:aws:s3:::r5-import/AWSDynamoDB/*"]),
    )
    ddb = server.client("dynamodb", **user)
    with pytest.raises(ClientError) as caught:
        _import(ddb, "r5-imported", "r5-import")
    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "secret/b.json" in caught.value.response["Error"]["Message"]
    tables = server.client("dynamodb", key=account).list_tables()["TableNames"]
    assert "r5-imported" not in tables
    # positive control: the prefix she may read is imported, and only it
    done = _finished(ddb, _import(ddb, "r5-public", "r5-import", prefix="public/")["ImportArn"])
    assert done["ImportStatus"] == "COMPLETED"
    assert ddb.scan(TableName="r5-public")["Items"] == [{"pk": {"S": "public"}}]


def test_an_import_is_refused_by_a_deny_on_one_object_under_the_prefix(make_server: Callable[..., Endpoint]) -> None:
    """The same rule, through an explicit Deny: an identity allowed s3:* with a Deny of s3:GetObject on
    `data/secret*` imports the prefix `data/`; lambdaperm checked GetObject on the key `data/` only, which the
    Deny does not match, and imported `data/secret.json`. AWS: the Deny applies to the object's own GetObject.
    """
    server = make_server()
    account = "777750000002"
    s3 = server.client("s3", key=account)
    s3.create_bucket(Bucket="r5-import-deny")
    s3.put_object(Bucket="r5-import-deny", Key="data/ok.json", Body=item_line("ok"))
    s3.put_object(Bucket="r5-import-deny", Key="data/secret.json", Body=item_line("secret"))
    user = user_keys(
        server,
        account,
        "importer",
        allow(_IMPORTER),
        allow("s3:*"),
        deny("s3:GetObject", "arn:aws:s3:::r5-import-deny/data/secret*"),
    )
    ddb = server.client("dynamodb", **user)
    with pytest.raises(ClientError) as caught:
        _import(ddb, "r5-deny", "r5-import-deny", prefix="data/")
    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "r5-deny" not in server.client("dynamodb", key=account).list_tables()["TableNames"]


def test_a_new_object_under_the_prefix_is_decided_again(make_server: Callable[..., Endpoint]) -> None:
    """What the import reads is what was decided: the objects under the prefix are pinned before the decision and
    the backend's import reads exactly those (`dataplane/dynamodb_imports.py`). An import of a prefix the caller
    may read whole succeeds and imports it; once an object she may not read is written under it, the same import
    is refused, and the first table holds only the object decided on.
    """
    server = make_server()
    account = "777750000003"
    s3 = server.client("s3", key=account)
    s3.create_bucket(Bucket="r5-import-pin")
    s3.put_object(Bucket="r5-import-pin", Key="in/ok.json", Body=item_line("ok"))
    user = user_keys(
        server,
        account,
        "importer",
        allow(_IMPORTER),
        allow("s3:ListBucket", "arn:aws:s3:::r5-import-pin"),
        allow("s3:GetObject", "arn:aws:s3:::r5-import-pin/in/ok*"),
    )
    ddb = server.client("dynamodb", **user)
    done = _finished(ddb, _import(ddb, "r5-pin-1", "r5-import-pin", prefix="in/")["ImportArn"])
    assert (done["ImportStatus"], done["ImportedItemCount"]) == ("COMPLETED", 1)
    s3.put_object(Bucket="r5-import-pin", Key="in/zz-secret.json", Body=item_line("secret"))
    with pytest.raises(ClientError) as caught:
        _import(ddb, "r5-pin-2", "r5-import-pin", prefix="in/")
    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
    assert ddb.scan(TableName="r5-pin-1")["Items"] == [{"pk": {"S": "ok"}}]


def _exportable(server: Endpoint, account: str, table: str, bucket: str) -> str:
    ddb = server.client("dynamodb", key=account)
    ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.update_continuous_backups(
        TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    ddb.put_item(TableName=table, Item={"pk": {"S": "row"}})
    server.client("s3", key=account).create_bucket(Bucket=bucket)
    return f"arn:aws:dynamodb:{REGION}:{account}:table/{table}"


def _keys_when_done(s3: Any, bucket: str, count: int) -> list[str]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))
        if len(keys) >= count:
            return keys
        time.sleep(0.05)
    raise AssertionError(f"the export wrote fewer than {count} objects into {bucket}")


def test_an_export_is_decided_on_the_objects_it_writes(make_server: Callable[..., Endpoint]) -> None:
    """ExportTableToPointInTime writes, as the caller (s3:PutObject on each object), `_started`, the manifests
    and the data files under `<S3Prefix>/AWSDynamoDB/<ExportId>/`
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/S3DataExport.Output.html).
    Attack: a user allowed s3:PutObject on `exports/*` but denied it on `exports/AWSDynamoDB/*/data/*` (no table
    data may land in the bucket) exports a table; lambdaperm decided one stand-in key `exports/AWSDynamoDB/`,
    which the Deny does not match, and the backend wrote the table's rows at `exports/AWSDynamoDB/<x>/data/<y>.gz`.
    AWS's outcome: the data file's write is denied; here the export is refused and nothing is written.
    """
    server = make_server()
    account = "777750000004"
    arn = _exportable(server, account, "r5-export", "r5-export-b")
    user = user_keys(
        server,
        account,
        "exporter",
        allow("dynamodb:ExportTableToPointInTime", arn),
        allow("s3:PutObject", "arn:aws:s3:::r5-export-b/exports/*"),
        deny("s3:PutObject", "arn:aws:s3:::r5-export-b/exports/AWSDynamoDB/*/data/*"),
    )
    ddb = server.client("dynamodb", **user)
    with pytest.raises(ClientError) as caught:
        ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket="r5-export-b", S3Prefix="exports")
    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
    s3 = server.client("s3", key=account)
    assert s3.list_objects_v2(Bucket="r5-export-b").get("Contents", []) == []
    # positive control: without the Deny, the keys written are exactly the export's own, under its id
    iam = server.client("iam", key=account)
    iam.put_user_policy(
        UserName="exporter",
        PolicyName="p",
        PolicyDocument=policy(
            allow("dynamodb:ExportTableToPointInTime", arn), allow("s3:PutObject", "arn:aws:s3:::r5-export-b/exports/*")
        ),
    )
    ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket="r5-export-b", S3Prefix="exports")
    started, data = _keys_when_done(s3, "r5-export-b", 2)
    folder = started.removesuffix("/_started")
    assert started.startswith("exports/AWSDynamoDB/") and started.endswith("/_started")
    assert data.startswith(f"{folder}/data/") and data.endswith(".json.gz")


def test_an_export_without_a_prefix_is_refused_not_a_500(make_server: Callable[..., Endpoint]) -> None:
    """Without `S3Prefix` the embedded backend crashed (500 InternalFailure); an export lambdaperm cannot write as
    authorized is 501 NotImplemented, naming what is not served, and writes nothing."""
    server = make_server()
    account = "777750000005"
    arn = _exportable(server, account, "r5-export-np", "r5-export-np")
    ddb = server.client("dynamodb", key=account)
    with pytest.raises(ClientError) as caught:
        ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket="r5-export-np")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert "S3Prefix" in caught.value.response["Error"]["Message"]
    assert server.client("s3", key=account).list_objects_v2(Bucket="r5-export-np").get("Contents", []) == []
