"""Attack class: races (time of check vs time of use), review round 10 — on the code landed since round 9.

New state read at decision time: S3 Block Public Access (`dataplane/s3_public_policies.py`: RestrictPublicBuckets
narrows a public bucket policy when a call is decided, BlockPublicPolicy refuses a public policy at PutBucketPolicy),
DynamoDB table resource policies (`dataplane/dynamodb_policies.py`, read by `gateway/policy_source.py`) and the
TagResource target check (`dataplane/dynamodb_tag_targets.py`). Each window is played deterministically in a real
server (`race_gate_round10`: a call stops after its decision — `race_gate` — or, for an S3 bucket policy, between
the read of the policy and the read of the bucket's Block Public Access setting), never with timing.

The rule ("one reading", docs/architecture.md): a call's outcome is one that some serial order of the calls gives.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.security.gated_servers import gated_for_module
from tests.security.race_support import Held, release_after, through_gate

A = "121200001010"  # the owner
B = "343400001010"  # another account
_ALL_OFF = dict.fromkeys(("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), False)


@pytest.fixture(scope="module")
def gated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Endpoint, Path]]:
    yield from gated_for_module(tmp_path_factory, "races10", "tests.security.race_gate_round10")


def _public(bucket: str) -> str:
    statement = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def test_a_decision_never_combines_the_old_public_policy_with_the_block_deleted_after_it(
    gated: tuple[Endpoint, Path],
) -> None:
    """Attack: A's bucket holds a public policy (`Principal: *`) under RestrictPublicBuckets, so B (another
    account) is refused. A then replaces the policy by one naming A's account alone, and — acknowledged — deletes
    the bucket's Block Public Access. B's GetObject is decided across both writes: it reads the old public policy,
    then (held) both writes complete, then it reads the block — gone. Decided on that mix, B reads the object
    through a public policy no longer in force, unrestricted by a block that was in force as long as that policy
    was.

    AWS: RestrictPublicBuckets blocks "public and cross-account access within any public bucket policy"
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html); in every
    serial order of the three calls B is refused (public policy + restrict, or A-only policy): 403 AccessDenied."""
    server, gate = gated
    bucket = "race10-restrict-mix"
    s3 = server.client("s3", key=A)
    b = server.client("s3", key=B)
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"secret")
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=_ALL_OFF | {"RestrictPublicBuckets": True})
    s3.put_bucket_policy(Bucket=bucket, Policy=_public(bucket))
    with pytest.raises(ClientError) as refused:  # restricted: B is refused before the race
        b.get_object(Bucket=bucket, Key="k")
    assert refused.value.response["Error"]["Code"] == "AccessDenied"

    owner_only = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
            }
        ],
    }

    def replace_policy_then_unblock() -> None:
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(owner_only))
        s3.delete_public_access_block(Bucket=bucket)

    (gate / f"{bucket}.gate").touch()  # B's decision stops between the policy and the block
    held = Held(gate, bucket, lambda: b.get_object(Bucket=bucket, Key="k")["Body"].read()).start()
    outcome = release_after(held, replace_policy_then_unblock)
    assert outcome == ("error", "AccessDenied"), outcome
    # both writes took effect (after B's call): the owner-only policy, no block; B is refused by the policy now
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == owner_only
    with pytest.raises(ClientError) as after:
        b.get_object(Bucket=bucket, Key="k")
    assert after.value.response["Error"]["Code"] == "AccessDenied"


def _shared_table(server: Endpoint, name: str) -> tuple[Any, str]:
    """A's table `name` with item k=1 "old" and a resource policy granting B GetItem; returns (A's client, ARN)."""
    ddb = server.client("dynamodb", key=A)
    arn = ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )["TableDescription"]["TableArn"]
    ddb.put_item(TableName=name, Item={"k": {"S": "1"}, "v": {"S": "old"}})
    grant = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{B}:root"},
                "Action": "dynamodb:GetItem",
                "Resource": arn,
            }
        ],
    }
    ddb.put_resource_policy(ResourceArn=arn, Policy=json.dumps(grant))
    return ddb, arn


def test_a_cross_account_read_decided_on_a_table_policy_never_reads_what_was_written_after_its_deletion(
    gated: tuple[Endpoint, Path],
) -> None:
    """Attack: A's table policy grants B GetItem. B's GetItem is decided (held after its decision); A deletes the
    policy — acknowledged — and then writes a secret into the item B asked for. Executed after both, B's read,
    decided on the deleted policy, would return the secret written once B had no access.

    AWS: a table's resource-based policy governs cross-account access
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/access-control-resource-based.html); in any
    serial order B reads "old" (before the deletion) or is refused (after it) — never "secret"."""
    server, gate = gated
    ddb, arn = _shared_table(server, "race10-policy")
    b = through_gate(server.client("dynamodb", key=B), "r10-ddb-policy")

    def unshare_then_write() -> None:
        ddb.delete_resource_policy(ResourceArn=arn)
        ddb.put_item(TableName="race10-policy", Item={"k": {"S": "1"}, "v": {"S": "secret"}})

    held = Held(gate, "r10-ddb-policy", lambda: b.get_item(TableName=arn, Key={"k": {"S": "1"}})).start()
    outcome = release_after(held, unshare_then_write)
    assert outcome[0] == "ok" and outcome[1]["Item"]["v"]["S"] == "old", outcome
    assert ddb.get_item(TableName="race10-policy", Key={"k": {"S": "1"}})["Item"]["v"]["S"] == "secret"


def test_a_tag_resource_checked_on_a_table_is_not_executed_after_its_deletion(gated: tuple[Endpoint, Path]) -> None:
    """Attack: A's TagResource on its table passes the target check (`dynamodb_tag_targets`: the table exists) and
    is held after its decision; A deletes the table and creates it again under the name. Executed after, the tag
    would land on the new table — a resource nobody authorized the call for.

    AWS: DeleteTable removes the table with its tags
    (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_DeleteTable.html); in any serial order the
    new table carries no tag of the old one's call."""
    server, gate = gated
    ddb = server.client("dynamodb", key=A)
    spec: dict[str, Any] = {
        "TableName": "race10-tags",
        "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    arn = ddb.create_table(**spec)["TableDescription"]["TableArn"]
    tagger = through_gate(server.client("dynamodb", key=A), "r10-ddb-tag")

    def recreate() -> None:
        ddb.delete_table(TableName="race10-tags")
        ddb.create_table(**spec)

    held = Held(gate, "r10-ddb-tag", lambda: tagger.tag_resource(ResourceArn=arn, Tags=[{"Key": "t", "Value": "x"}]))
    outcome = release_after(held.start(), recreate)
    assert outcome[0] == "ok", outcome  # decided and executed on the old table, before its deletion
    assert ddb.list_tags_of_resource(ResourceArn=arn).get("Tags", []) == []  # the new table: untagged
