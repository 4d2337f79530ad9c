"""Attack class: the executor acts on something else than what was authorized — and the structural oracle
that would see it (tests/structural).

The oracle records, per data-plane request, every resource moto's backend read or changed, and the
end-to-end fixtures fail a server whose record has a touch no containment rule covers. These tests hold
the oracle itself to account: each containment rule with what it covers and what it must not; a backend
deliberately made to act on another table, object, queue, region or account is caught in-process and
through a real `lambdaperm serve`; a server the oracle was not loaded into fails the check.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError

from lambdaperm.dataplane import MotoBackend
from lambdaperm.protocol import ServiceError
from tests.e2e.conftest import Endpoint, start_server, stop_server
from tests.structural import instrument
from tests.structural.check import OracleViolation, check_server, oracle_log
from tests.structural.containment import violations
from tests.structural.hooks import ENV_MUTANT, broken_executor
from tests.structural.touches import Frame, recording

A, B = "111100000001", "111100000002"
R, OTHER = "us-west-2", "eu-west-1"


def touch(arn: str, mode: str = "write", account: str = A, region: str = R, **extra: Any) -> dict[str, Any]:
    return {
        "arn": arn,
        "mode": mode,
        "account": account,
        "region": region,
        "via": "test",
        "depth": 0,
        "call": 1,
        **extra,
    }


def entry(
    operation: str,
    authorized: list[str],
    touches: list[dict[str, Any]],
    service: str = "dynamodb",
    wildcard: bool = False,
    errors: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "request": "r-1",
        "service": service,
        "operation": operation,
        "account": A,
        "region": R,
        "authorized": authorized,
        "wildcard": wildcard,
        "touches": touches,
        "errors": errors or [],
    }


def uncovered(e: dict[str, Any]) -> list[str]:
    return [v.touch.arn if v.touch else v.reason for v in violations(e)]


TABLE = f"arn:aws:dynamodb:{R}:{A}:table/allowed"


# --- the containment rules, one by one ----------------------------------------------------------------


def test_exact_arn_is_covered_and_another_table_is_not() -> None:
    assert uncovered(entry("PutItem", [TABLE], [touch(TABLE)])) == []
    victim = f"arn:aws:dynamodb:{R}:{A}:table/victim"
    assert uncovered(entry("PutItem", [TABLE], [touch(TABLE), touch(victim)])) == [victim]


def test_same_name_in_another_region_or_account_is_another_resource() -> None:
    other_region = f"arn:aws:dynamodb:{OTHER}:{A}:table/allowed"
    other_account = f"arn:aws:dynamodb:{R}:{B}:table/allowed"
    assert uncovered(entry("PutItem", [TABLE], [touch(other_region, region=OTHER)])) == [other_region]
    assert uncovered(entry("PutItem", [TABLE], [touch(other_account, account=B)])) == [other_account]


def test_an_object_covers_reading_its_bucket_not_changing_it_nor_another_object() -> None:
    obj, bucket = "arn:aws:s3:::b1/k", "arn:aws:s3:::b1"
    ok = entry("PutObject", [obj], [touch(bucket, "read"), touch(obj)], service="s3")
    assert uncovered(ok) == []
    assert uncovered(entry("PutObject", [obj], [touch(bucket, "write")], service="s3")) == [bucket]
    assert uncovered(entry("PutObject", [obj], [touch("arn:aws:s3:::b1/k2")], service="s3")) == ["arn:aws:s3:::b1/k2"]
    # a bucket whose name is a prefix of the authorized one is not its container
    assert uncovered(entry("GetObject", ["arn:aws:s3:::b10/k"], [touch(bucket, "read")], service="s3")) == [bucket]


def test_an_index_covers_reading_its_table_and_a_stream_its_log_group() -> None:
    index = f"{TABLE}/index/byDate"
    assert uncovered(entry("Query", [index], [touch(TABLE, "read"), touch(index, "read")])) == []
    assert uncovered(entry("Query", [index], [touch(TABLE, "write")])) == [TABLE]
    group = f"arn:aws:logs:{R}:{A}:log-group:g"
    stream = f"{group}:log-stream:s"
    assert uncovered(entry("PutLogEvents", [stream], [touch(group, "read"), touch(stream)], service="logs")) == []
    assert uncovered(entry("PutLogEvents", [stream], [touch(f"{group}:log-stream:t")], service="logs")) == [
        f"{group}:log-stream:t"
    ]


def test_logs_group_actions_are_authorized_in_the_catalogs_form() -> None:
    group = f"arn:aws:logs:{R}:{A}:log-group:g"
    catalog = f"{group}:log-stream:"
    assert uncovered(entry("CreateLogGroup", [catalog], [touch(group)], service="logs")) == []
    assert uncovered(entry("CreateLogGroup", [f"{group}:*"], [touch(group)], service="logs")) == []
    assert uncovered(entry("CreateLogGroup", [catalog], [touch(f"{group}2")], service="logs")) == [f"{group}2"]


def test_listing_the_collection_is_covered_only_in_the_calls_own_account_and_region() -> None:
    scope = f"arn:aws:dynamodb:{R}:{A}:"
    assert uncovered(entry("ListTables", [], [touch(scope, "list")], wildcard=True)) == []
    elsewhere = f"arn:aws:dynamodb:{OTHER}:{A}:"
    assert uncovered(entry("ListTables", [], [touch(elsewhere, "list", region=OTHER)], wildcard=True)) == [elsewhere]
    theirs = f"arn:aws:dynamodb:{R}:{B}:"
    assert uncovered(entry("ListTables", [], [touch(theirs, "list", account=B)], wildcard=True)) == [theirs]


def test_a_wildcard_action_covers_reads_in_scope_only() -> None:
    vpc = f"arn:aws:ec2:{R}:{A}:vpc/vpc-0123456789abcdef0"
    assert uncovered(entry("DescribeVpcs", [], [touch(vpc, "read")], service="ec2", wildcard=True)) == []
    assert uncovered(entry("DescribeVpcs", [], [touch(vpc, "write")], service="ec2", wildcard=True)) == [vpc]
    assert uncovered(entry("DescribeVpcs", [], [touch(vpc, "read")], service="ec2")) == [vpc]
    far = f"arn:aws:ec2:{OTHER}:{A}:vpc/vpc-0123456789abcdef0"
    assert uncovered(entry("DescribeVpcs", [], [touch(far, "read", region=OTHER)], service="ec2", wildcard=True)) == [
        far
    ]


def test_generated_ids_are_covered_by_their_type_and_dependent_creations_by_the_root() -> None:
    vpc = f"arn:aws:ec2:{R}:{A}:vpc/vpc-0123456789abcdef0"
    sg = f"arn:aws:ec2:{R}:{A}:security-group/sg-0123456789abcdef0"
    authorized = [f"arn:aws:ec2:{R}:{A}:vpc/*"]
    made = [touch(vpc, "write", depth=1), touch(sg, "create", depth=1), touch(vpc, "create")]
    assert uncovered(entry("CreateVpc", authorized, made, service="ec2")) == []
    # a security group created at the top without security-group/* authorized is not covered
    assert uncovered(entry("CreateVpc", authorized, [touch(sg, "create")], service="ec2")) == [sg]
    # writing an existing VPC is not a creation
    old = f"arn:aws:ec2:{R}:{A}:vpc/vpc-00000000000000000"
    assert uncovered(
        entry("CreateVpc", authorized, [touch(vpc, "create"), touch(old, "write", depth=1)], service="ec2")
    ) == [old]


def test_s3_buckets_must_be_in_the_signed_region_except_a_copy_source() -> None:
    obj = "arn:aws:s3:::eu-bucket/k"
    assert [
        v.reason for v in violations(entry("GetObject", [obj], [touch(obj, "read", region=OTHER)], service="s3"))
    ] == ["acted on a bucket of another region"]
    copy = entry(
        "CopyObject",
        [obj, "arn:aws:s3:::here/k"],
        [touch(obj, "read", region=OTHER, source=True), touch("arn:aws:s3:::here/k")],
        service="s3",
    )
    assert uncovered(copy) == []
    written = entry("CopyObject", [obj], [touch(obj, "write", region=OTHER)], service="s3")
    assert [v.reason for v in violations(written)] == ["acted on a bucket of another region"]


def test_service_deliveries_are_not_the_callers_acts_and_oracle_errors_fail() -> None:
    queue = f"arn:aws:sqs:{R}:{A}:subscriber"
    topic = f"arn:aws:sns:{R}:{A}:t"
    delivered = entry("Publish", [topic], [touch(topic), touch(queue, delivery=f"sns:{topic}")], service="sns")
    assert uncovered(delivered) == []
    assert uncovered(entry("Publish", [topic], [touch(topic)], service="sns", errors=["X.y unmapped"])) == [
        "X.y unmapped"
    ]


def test_a_subscription_is_its_topic() -> None:
    topic = f"arn:aws:sns:{R}:{A}:t"
    assert uncovered(entry("Unsubscribe", [topic], [touch(f"{topic}:0b6a3c2e")], service="sns")) == []
    assert uncovered(entry("Unsubscribe", [topic], [touch(f"{topic}2:0b6a3c2e")], service="sns")) == [
        f"{topic}2:0b6a3c2e"
    ]


# --- the instrumentation, in-process ------------------------------------------------------------------

_session = botocore.session.get_session()


def _model(service: str, operation: str) -> Any:
    return _session.get_service_model(service).operation_model(operation)


def _run(
    backend: Any, service: str, operation: str, params: dict[str, Any], account: str = A, region: str = R
) -> Frame:
    with recording() as frame, contextlib.suppress(ServiceError):
        backend.execute(_model(service, operation), params, account, region)
    return frame


def _recorded(frame: Frame, operation: str, authorized: list[str], service: str) -> dict[str, Any]:
    return entry(operation, authorized, [t.as_json() for t in frame.touches], service=service, errors=frame.errors)


KEYS = {
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
    "BillingMode": "PAY_PER_REQUEST",
}


@pytest.fixture(scope="module")
def moto_in_process() -> MotoBackend:
    instrument.install()
    backend = MotoBackend()
    for account in (A, B):
        for region in (R, OTHER):
            for name in ("allowed", "allowed-twin"):
                backend.execute(_model("dynamodb", "CreateTable"), {"TableName": name, **KEYS}, account, region)
    return backend


@pytest.mark.parametrize("mutant", ["other-table", "other-region", "other-account"])
def test_a_backend_acting_on_another_table_is_caught(moto_in_process: MotoBackend, mutant: str) -> None:
    params = {"TableName": "allowed", "Item": {"pk": {"S": "x"}}}
    honest = _run(moto_in_process, "dynamodb", "PutItem", params)
    assert uncovered(_recorded(honest, "PutItem", [TABLE], "dynamodb")) == []

    broken = broken_executor(MotoBackend.execute, mutant)
    # 999999999999 has no such table: the lookup still acts on it
    with recording() as frame, contextlib.suppress(ServiceError):
        broken(moto_in_process, _model("dynamodb", "PutItem"), params, A, R)
    found = uncovered(_recorded(frame, "PutItem", [TABLE], "dynamodb"))
    expected = {
        "other-table": f"arn:aws:dynamodb:{R}:{A}:table/allowed-twin",
        "other-region": f"arn:aws:dynamodb:{OTHER}:{A}:table/allowed",
        "other-account": "arn:aws:dynamodb:us-west-2:999999999999:table/allowed",
    }[mutant]
    assert expected in found


def test_partiql_tables_are_the_ones_motos_parser_reads(moto_in_process: MotoBackend) -> None:
    """moto hands every table to the PartiQL engine; the oracle records the one the statement names (as
    moto reads it), not all of them, and not none."""
    frame = _run(moto_in_process, "dynamodb", "ExecuteStatement", {"Statement": 'SELECT * FROM "allowed-twin"'})
    assert set(uncovered(_recorded(frame, "ExecuteStatement", [TABLE], "dynamodb"))) == {
        f"arn:aws:dynamodb:{R}:{A}:table/allowed-twin"
    }
    frame = _run(moto_in_process, "dynamodb", "ExecuteStatement", {"Statement": 'SELECT * FROM "allowed"'})
    assert {t.arn for t in frame.touches} == {TABLE}


def test_s3_objects_are_recorded_wherever_moto_reaches_them(moto_in_process: MotoBackend) -> None:
    moto_in_process.execute(
        _model("s3", "CreateBucket"),
        {"Bucket": "oracle-bucket", "CreateBucketConfiguration": {"LocationConstraint": R}},
        A,
        R,
    )
    moto_in_process.execute(_model("s3", "PutObject"), {"Bucket": "oracle-bucket", "Key": "a", "Body": b"1"}, A, R)
    frame = _run(
        moto_in_process, "s3", "CopyObject", {"Bucket": "oracle-bucket", "Key": "b", "CopySource": "oracle-bucket/a"}
    )
    assert set(uncovered(_recorded(frame, "CopyObject", ["arn:aws:s3:::oracle-bucket/b"], "s3"))) == {
        "arn:aws:s3:::oracle-bucket/a"
    }  # the copy source, read
    frame = _run(
        moto_in_process,
        "s3",
        "DeleteObjects",
        {"Bucket": "oracle-bucket", "Delete": {"Objects": [{"Key": "a"}, {"Key": "b"}]}},
    )
    assert set(uncovered(_recorded(frame, "DeleteObjects", ["arn:aws:s3:::oracle-bucket/a"], "s3"))) == {
        "arn:aws:s3:::oracle-bucket/b"
    }


# --- the oracle in a real server ----------------------------------------------------------------------


def _setup(server: Endpoint, account: str) -> None:
    for region in (R, OTHER):
        ddb = server.client("dynamodb", key=account, region=region)
        for name in ("allowed", "allowed-twin"):
            ddb.create_table(TableName=name, **KEYS)
    s3 = server.client("s3", key=account, region=R)
    s3.create_bucket(Bucket=f"oracle-{account}", CreateBucketConfiguration={"LocationConstraint": R})
    sqs = server.client("sqs", key=account, region=R)
    for name in ("allowed", "allowed-twin"):
        sqs.create_queue(QueueName=name)


def _act(server: Endpoint, account: str, mutant: str) -> None:
    with contextlib.suppress(ClientError):  # the broken executor may find nothing where it looks: looking acts
        _call(server, account, mutant)


def _call(server: Endpoint, account: str, mutant: str) -> None:
    if mutant == "other-object":
        server.client("s3", key=account, region=R).put_object(Bucket=f"oracle-{account}", Key="k", Body=b"v")
    elif mutant == "other-queue":
        sqs = server.client("sqs", key=account, region=R)
        sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName="allowed")["QueueUrl"], MessageBody="m")
    else:
        server.client("dynamodb", key=account, region=R).put_item(TableName="allowed", Item={"pk": {"S": "x"}})


@pytest.mark.parametrize("mutant", ["other-table", "other-object", "other-queue", "other-region", "other-account"])
def test_a_broken_executor_fails_the_server_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mutant: str) -> None:
    monkeypatch.setenv(ENV_MUTANT, mutant)
    server = start_server(None, tmp_path)
    try:
        _setup(server, A)
        _act(server, A, mutant)
    except Exception:
        server.proc.kill()
        raise
    with pytest.raises(OracleViolation) as caught:
        stop_server(server)
    message = str(caught.value)
    twin = {
        "other-table": "table/allowed-twin",
        "other-object": "arn:aws:s3:::oracle-111100000001/k-twin",
        "other-queue": ":allowed-twin",
        "other-region": f"arn:aws:dynamodb:{OTHER}:{A}:table/allowed",
        "other-account": "arn:aws:dynamodb:us-west-2:999999999999:table/allowed",
    }[mutant]
    assert twin in message
    lines = [json.loads(line) for line in oracle_log(server.log).read_text().splitlines()]
    offending = [e for e in lines if e.get("operation") in ("PutItem", "PutObject", "SendMessage")]
    assert offending and offending[-1]["request"] in message  # the offending request is named


def test_a_server_without_the_oracle_fails_the_check(tmp_path: Path) -> None:
    log = tmp_path / "server-1.log"
    log.write_text("")
    with pytest.raises(OracleViolation, match="was not loaded"):
        check_server(log)


def test_a_rule_operation_may_read_its_peer_group_not_change_it_nor_reach_another_account() -> None:
    """Rule 6: AuthorizeSecurityGroupIngress is authorized on the rule's group only; the group named as the rule's
    peer (UserIdGroupPairs) is looked up, in the call's own account and region, and nothing more."""
    target = f"arn:aws:ec2:{R}:{A}:security-group/sg-0000000000000000a"
    peer = f"arn:aws:ec2:{R}:{A}:security-group/sg-0000000000000000b"
    foreign = f"arn:aws:ec2:{R}:{B}:security-group/sg-0000000000000000c"
    op = "AuthorizeSecurityGroupIngress"
    assert uncovered(entry(op, [target], [touch(target), touch(peer, "read")], service="ec2")) == []
    assert uncovered(entry(op, [target], [touch(peer, "write")], service="ec2")) == [peer]
    assert uncovered(entry(op, [target], [touch(foreign, "read", account=B)], service="ec2")) == [foreign]
    assert uncovered(entry("CreateTags", [target], [touch(peer, "read")], service="ec2")) == [peer]
