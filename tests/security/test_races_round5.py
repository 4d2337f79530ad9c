"""Attack class: races (time of check vs time of use), review round 5.

Rounds 1–4 held what a call names from its authorization to its execution (bucket, topic and role names, a
function's incarnation, each S3 object a call names, Lambda's code read from S3, the SQS poller's function). This
round plays the windows of the surface added since: DynamoDB ImportTable's pinned objects (listed before the
decision, read by the backend after it), and looks at the journal of the durable data plane, SNS subscription
confirmation, the bucket registry, DynamoDB item-level and tag decisions, queue and topic policy changes, role trust
changes and Lambda tag decisions. Every window is played deterministically with gates in a real server
(`race_gate_round5`: the gates of rounds 1–4, plus one between an import's pin and its decisions), never with timing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.security.gated_servers import gated_for_module
from tests.security.iam_users import user_keys
from tests.security.race_support import Held, release_after, through_gate

REGION = "us-east-1"


@pytest.fixture(scope="module")
def gated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Endpoint, Path]]:
    yield from gated_for_module(tmp_path_factory, "races5", "tests.security.race_gate_round5")


# --- DynamoDB ImportTable: an object overwritten between the import's pin and its decision ---------------------


def _line(pk: str) -> bytes:
    return (json.dumps({"Item": {"pk": {"S": pk}}}) + "\n").encode()


def _importer(server: Endpoint, account: str, bucket: str) -> Any:
    """The DynamoDB client of IAM user `importer` of `account`: may import tables, list and read the objects of
    `bucket` — except those tagged classification=secret (an explicit Deny on s3:ExistingObjectTag)."""
    statements = [
        {
            "Effect": "Allow",
            "Action": ["dynamodb:ImportTable", "dynamodb:DescribeImport", "dynamodb:Scan"],
            "Resource": "*",
        },
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}"},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"},
        {
            "Effect": "Deny",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{bucket}/*",
            "Condition": {"StringEquals": {"s3:ExistingObjectTag/classification": "secret"}},
        },
    ]
    keys = user_keys(server, account, "importer", *statements)
    return server.client("dynamodb", **keys)


def _import(ddb: Any, table: str, bucket: str, prefix: str) -> dict[str, Any]:
    return ddb.import_table(  # type: ignore[no-any-return]
        S3BucketSource={"S3Bucket": bucket, "S3KeyPrefix": prefix},
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


@pytest.mark.parametrize("versioned", [False, True])
def test_an_import_does_not_read_an_object_decided_on_the_tags_of_the_one_written_over_it(
    gated: tuple[Endpoint, Path], versioned: bool
) -> None:
    """Attack: user `importer` may read the objects of her account's bucket except those tagged
    classification=secret. `data/x.json` holds a secret row, tagged secret. She imports the prefix `data/`: the
    import is pinned (its objects listed: the secret object) and, before the pin's keys are decided, the owner
    overwrites `data/x.json` with a public row, tagged public. The decision read the tags of the object now
    current (public: allowed) while the backend's import read the pinned object — the secret row, in a table she
    can Scan. (Implicit accesses round 5 named this window and left it.)

    AWS: ImportTable reads each object with the caller's permissions (a forward access session,
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/S3DataImport.Requesting.html), so each read is
    the caller's s3:GetObject, decided on the tags of the object it reads (s3:ExistingObjectTag,
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/tagging-and-policies.html), and S3 is strongly
    consistent (https://docs.aws.amazon.com/AmazonS3/latest/userguide/Welcome.html#ConsistencyModel): the import
    reads the public row (after the overwrite), or is denied the secret one. No order imports the secret row
    under the public tags."""
    server, gate = gated
    account = "555500000501" if versioned else "555500000502"
    bucket, table = f"race-import-{account}", f"race-imported-{account}"
    s3 = server.client("s3", key=account)
    s3.create_bucket(Bucket=bucket)
    if versioned:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    ddb = _importer(server, account, bucket)
    s3.put_object(Bucket=bucket, Key="data/x.json", Body=_line("secret row"), Tagging="classification=secret")
    with pytest.raises(Exception) as denied:  # control: the secret object is not hers to import
        _import(ddb, f"{table}-control", bucket, "data/")
    assert getattr(denied.value, "response", {}).get("Error", {}).get("Code") == "AccessDeniedException"

    (gate / f"import-{bucket}.hold").touch()
    held = Held(gate, f"import-{bucket}", lambda: _import(ddb, table, bucket, "data/")["ImportArn"]).start()
    (gate / f"import-{bucket}.hold").unlink()
    s3.put_object(Bucket=bucket, Key="data/x.json", Body=_line("public row"), Tagging="classification=public")
    outcome = held.release()
    assert outcome[0] == "ok" or outcome == ("error", "AccessDeniedException"), outcome
    if outcome[0] == "ok":
        done = _finished(ddb, outcome[1])
        rows = ddb.scan(TableName=table)["Items"] if done["ImportStatus"] == "COMPLETED" else []
        assert {"pk": {"S": "secret row"}} not in rows, "the secret row was imported under the public tags"
        assert rows == [{"pk": {"S": "public row"}}], (done, rows)


# --- DynamoDB: a call decided on one table's tags, executed on the table created since under its name ----------


def test_get_item_does_not_read_a_table_recreated_after_it_was_decided(gated: tuple[Endpoint, Path]) -> None:
    """Attack: user `reader` may call dynamodb:GetItem on the tables of her account tagged env=dev
    (aws:ResourceTag). `race-table` is tagged dev. Her GetItem is decided on those tags; before it executes, the
    owner deletes the table and creates another `race-table`, tagged env=prod, holding a secret item. The held
    GetItem then read the new table's secret item under the deleted table's tags.

    AWS: aws:ResourceTag is the tag of the resource the request acts on
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/access-control-resource-based.html,
    https://docs.aws.amazon.com/IAM/latest/UserGuide/access_tags.html#access_tags_control-resources); a deleted
    table's items and tags are gone with it
    (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_DeleteTable.html). The read acts on the
    table whose tags allowed it (before the deletion: the dev item; after it: ResourceNotFoundException) or is
    denied on the new one; never the new table's item under the old table's tags (the principle rounds 2 and 4
    applied to queues and functions)."""

    server, gate = gated
    account = "555500000511"
    name = "race-table"
    ddb = server.client("dynamodb", key=account)
    arn = f"arn:aws:dynamodb:{REGION}:{account}:table/{name}"

    def create(env: str, value: str) -> None:
        ddb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            Tags=[{"Key": "env", "Value": env}],
        )
        ddb.put_item(TableName=name, Item={"pk": {"S": "k"}, "v": {"S": value}})

    create("dev", "dev data")
    dev = {"StringEquals": {"aws:ResourceTag/env": "dev"}}
    statement = {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*", "Condition": dev}
    keys = user_keys(server, account, "reader", statement)
    reader = server.client("dynamodb", **keys)
    assert reader.get_item(TableName=name, Key={"pk": {"S": "k"}})["Item"]["v"] == {"S": "dev data"}  # control

    held_reader = through_gate(server.client("dynamodb", **keys), "ddb-get")
    held = Held(gate, "ddb-get", lambda: held_reader.get_item(TableName=name, Key={"pk": {"S": "k"}}).get("Item"))
    held.start()

    def recreate() -> None:
        ddb.delete_table(TableName=name)
        create("prod", "secret")

    outcome = release_after(held, recreate)  # with a hold on the table's name, the deletion waits for the read
    assert outcome[0] == "error" or outcome[1] is None or outcome[1]["v"] != {"S": "secret"}, (
        "the new table's item was read under the deleted table's tags"
    )
    dev_data = ("ok", {"pk": {"S": "k"}, "v": {"S": "dev data"}})  # read before the deletion
    assert outcome in (dev_data, ("error", "ResourceNotFoundException"), ("error", "AccessDeniedException")), outcome
    assert ddb.describe_table(TableName=name)["Table"]["TableName"] == name  # the re-creation went through
    # control: the new table's tags let her read nothing
    with pytest.raises(ClientError) as denied:
        reader.get_item(TableName=arn, Key={"pk": {"S": "k"}})
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
