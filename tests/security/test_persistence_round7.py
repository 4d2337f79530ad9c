"""Persistence, review round 7: the durable data plane (journal, replay, snapshots) against lambdaperm's own
records, attacked against a real `lambdaperm serve` with real boto3 and `kill -9` at chosen moments.

A call's journal entry is committed with the trail record that acknowledges it; the records a call writes on the
way (principal pins, the bucket registry, S3 → Lambda targets) commit at once. A `kill -9` between the two —
played deterministically with `crash_gate_round7`, which stops the trail commit until the test kills the server —
leaves records that describe a data-plane state the restart does not have.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.security import race_gate
from tests.security.gated_servers import gated_starter
from tests.security.iam_users import key_pair, user_keys
from tests.security.restart_support import crash_during

A = "777800000071"


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


@pytest.fixture
def gated(tmp_path: Path) -> Iterator[Callable[[], tuple[Endpoint, Path]]]:
    """Start servers on `tmp_path/state` whose trail commit stops while `<gate>/commit.hold` exists."""
    yield from gated_starter(tmp_path, "tests.security.crash_gate_round7")


def _user(endpoint: Endpoint, account: str, name: str) -> Any:
    return key_pair(user_keys(endpoint, account, name))


def _drop_user(endpoint: Endpoint, account: str, name: str) -> None:
    iam = endpoint.client("iam", key=account)
    for key in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]:
        iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
    iam.delete_user(UserName=name)


def _bucket_policy(bucket: str, principal: str, action: str, resource: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": principal}, "Action": action, "Resource": resource}],
        }
    )


# --- principal pins ahead of the policy they pin --------------------------------------------------------------


def test_a_crash_after_a_policy_write_does_not_pin_the_old_policy_to_a_new_principal(
    gated: Callable[[], tuple[Endpoint, Path]],
) -> None:
    """Attack: a bucket policy grants `user/bob` s3:GetObject (pinned to bob's unique id). bob is deleted and
    created again: the policy no longer grants the new bob anything. The owner then writes a policy granting the
    new bob s3:ListBucket only; the server is killed after the write executed (its pins — the new bob's id — were
    committed to lambdaperm's records at once) and before its journal entry was. After the restart the bucket has
    the OLD policy again, read with the NEW pins: the old grant of s3:GetObject applied to the new bob — a grant no
    policy ever gave him.

    AWS: a policy's principal ARN is transformed to the principal's unique id when the policy is saved; a user
    created again has a new id that does not match
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-roles).
    Whichever policy the bucket has after the crash, the new bob may not read the object."""
    first, gate = gated()
    bucket = "r7-pinned"
    s3 = first.client("s3", key=A)
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="secret", Body=b"s3cr3t")
    old_key = _user(first, A, "bob")
    bob_arn = f"arn:aws:iam::{A}:user/bob"
    s3.put_bucket_policy(
        Bucket=bucket, Policy=_bucket_policy(bucket, bob_arn, "s3:GetObject", f"arn:aws:s3:::{bucket}/*")
    )
    old_bob = first.client("s3", key=old_key[0], secret=old_key[1])
    assert old_bob.get_object(Bucket=bucket, Key="secret")["Body"].read() == b"s3cr3t"  # positive control
    _drop_user(first, A, "bob")
    new_key = _user(first, A, "bob")
    new_bob = first.client("s3", key=new_key[0], secret=new_key[1])
    with pytest.raises(ClientError) as denied:  # the old policy names the old bob
        new_bob.get_object(Bucket=bucket, Key="secret")
    assert code(denied) == "AccessDenied"

    crash_during(
        first,
        gate,
        lambda: s3.put_bucket_policy(
            Bucket=bucket, Policy=_bucket_policy(bucket, bob_arn, "s3:ListBucket", f"arn:aws:s3:::{bucket}")
        ),
    )
    second, _ = gated()
    new_bob = second.client("s3", key=new_key[0], secret=new_key[1])
    with pytest.raises(ClientError) as denied:
        new_bob.get_object(Bucket=bucket, Key="secret")
    assert code(denied) == "AccessDenied"


# --- a kill -9 during a snapshot ---------------------------------------------------------------------------------


def test_a_crash_between_a_snapshot_and_its_truncation_replays_nothing_twice(
    gated: Callable[[], tuple[Endpoint, Path]],
) -> None:
    """Attack: a snapshot is renamed into place, then the server is killed before the journal entries it covers are
    deleted. If the start-up replayed those entries on top of the snapshot, every non-idempotent write would run
    twice: a counter's ADD, a message sent (a second copy, with a new id), an object version. After the restart
    the state is exactly what the acknowledged calls made: the counter is 3, one message, two object versions.

    AWS: an acknowledged write is applied once (UpdateItem ADD: "adds the specified value to the attribute",
    https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateItem.html)."""
    first, gate = gated()
    ddb = first.client("dynamodb", key=A)
    ddb.create_table(
        TableName="counter",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for _ in range(3):
        ddb.update_item(
            TableName="counter",
            Key={"pk": {"S": "n"}},
            UpdateExpression="ADD hits :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
        )
    sqs = first.client("sqs", key=A)
    url = sqs.create_queue(QueueName="once")["QueueUrl"]
    sent = sqs.send_message(QueueUrl=url, MessageBody="only once")["MessageId"]
    s3 = first.client("s3", key=A)
    s3.create_bucket(Bucket="r7-versions")
    s3.put_bucket_versioning(Bucket="r7-versions", VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket="r7-versions", Key="k", Body=b"1")
    s3.put_object(Bucket="r7-versions", Key="k", Body=b"2")
    (gate / "truncate.hold").touch()
    first.proc.terminate()  # a clean shutdown takes a snapshot, then deletes the journal it covers
    race_gate.wait_for(gate / "truncate.arrived")
    assert (first.state / "dataplane.snapshot").exists()  # type: ignore[operator]
    first.proc.kill()
    first.proc.wait()
    (gate / "truncate.hold").unlink()

    second, _ = gated()
    ddb = second.client("dynamodb", key=A)
    item = ddb.get_item(TableName="counter", Key={"pk": {"S": "n"}}, ConsistentRead=True)["Item"]
    assert item["hits"] == {"N": "3"}
    sqs = second.client("sqs", key=A)
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30)["Messages"]
    assert [m["MessageId"] for m in got] == [sent]
    assert sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []) == []
    versions = second.client("s3", key=A).list_object_versions(Bucket="r7-versions")["Versions"]
    assert len(versions) == 2


# --- a DeleteBucket the crash lost --------------------------------------------------------------------------------


def test_a_bucket_delete_the_crash_lost_leaves_the_name_its_owners(gated: Callable[[], tuple[Endpoint, Path]]) -> None:
    """Attack: the owner's DeleteBucket runs (the bucket registry's entry for the name is removed at once) and the
    server is killed before the delete's journal entry commits. After the restart the bucket is back — the delete
    was never acknowledged — but the registry no longer names its owner: another account's CreateBucket of the
    name must still be refused, and its calls on the bucket must not act on the owner's objects.

    AWS: a bucket name belongs to its owner until the owner deletes the bucket; another account's CreateBucket is
    409 BucketAlreadyExists (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html)."""
    first, gate = gated()
    other = "777800000072"
    s3 = first.client("s3", key=A)
    s3.create_bucket(Bucket="r7-lost-delete")
    s3.put_object(Bucket="r7-lost-delete", Key="k", Body=b"owner's")
    s3.delete_object(Bucket="r7-lost-delete", Key="k")
    crash_during(first, gate, lambda: s3.delete_bucket(Bucket="r7-lost-delete"))

    second, _ = gated()
    s3 = second.client("s3", key=A)
    s3.head_bucket(Bucket="r7-lost-delete")  # the unacknowledged delete is gone with the crash
    intruder = second.client("s3", key=other)
    with pytest.raises(ClientError) as taken:
        intruder.create_bucket(Bucket="r7-lost-delete")
    assert code(taken) == "BucketAlreadyExists"
    with pytest.raises(ClientError) as denied:
        intruder.put_object(Bucket="r7-lost-delete", Key="planted", Body=b"x")
    assert code(denied) == "AccessDenied"
    assert s3.list_objects_v2(Bucket="r7-lost-delete")["KeyCount"] == 0
    s3.delete_bucket(Bucket="r7-lost-delete")  # and the owner can still give the name up
    intruder.create_bucket(Bucket="r7-lost-delete")


# --- what a snapshot holds, and who can read it --------------------------------------------------------------------


def test_a_snapshot_is_private_and_holds_no_credential(gated: Callable[[], tuple[Endpoint, Path]]) -> None:
    """A snapshot is written under a loose umask: it must be 0600 in the 0700 state directory, leave no temporary
    file behind, and hold the data plane only — no IAM secret key (those are the state database's, never
    pickled into the data plane's snapshot).

    AWS: secret access keys are returned once, at creation
    (https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateAccessKey.html); lambdaperm's threat model keeps
    every file of the state directory private to the server (docs/security.md)."""
    previous = os.umask(0o022)
    try:
        first, _ = gated()
    finally:
        os.umask(previous)
    key = _user(first, A, "snapshot-reader")
    s3 = first.client("s3", key=A)
    s3.create_bucket(Bucket="r7-snapshot")
    s3.put_object(Bucket="r7-snapshot", Key="k", Body=b"data")
    first.proc.terminate()
    assert first.proc.wait(timeout=120) == 0  # a bound, not a sleep: the shutdown snapshot on a loaded machine
    state = first.state
    assert state is not None
    snapshot = state / "dataplane.snapshot"
    assert snapshot.exists()
    assert snapshot.stat().st_mode & 0o777 == 0o600
    assert state.stat().st_mode & 0o777 == 0o700
    assert not (state / "dataplane.snapshot.tmp").exists()
    content = snapshot.read_bytes()
    assert key[1].encode() not in content and key[0].encode() not in content
