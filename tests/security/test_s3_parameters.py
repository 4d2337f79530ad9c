"""Attack class 3: S3 parameters. The copy source and the DeleteObjects keys are read exactly as S3 reads
them, authorized as read, and executed as authorized: `#`, `;`, a percent-encoded `versionId`, a second
header line or a namespaced `<Key>` can never make the backend act on an object that was not authorized."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.security.raw_s3 import send

SECRET = b"PRIVATE: never to be copied"


def _user(server: Endpoint, account: str, name: str, statements: list[dict[str, Any]]) -> tuple[str, str]:
    iam = server.client("iam", key=account)
    iam.create_user(UserName=name)
    iam.put_user_policy(
        UserName=name, PolicyName="p", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements})
    )
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def _copier(server: Endpoint, account: str, src: str, dst: str) -> tuple[Any, str, str]:
    """A source bucket with a secret object the user is explicitly denied, public objects it may read, and
    a destination bucket it may write."""
    root = server.client("s3", key=account)
    for bucket in (src, dst):
        root.create_bucket(Bucket=bucket)
    root.put_object(Bucket=src, Key="secret", Body=SECRET)
    root.put_object(Bucket=src, Key="public", Body=b"public")
    key, secret = _user(
        server,
        account,
        "copier",
        [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{src}/*"},
            {
                "Effect": "Deny",
                "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                "Resource": f"arn:aws:s3:::{src}/secret",
            },
            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{dst}/*"},
        ],
    )
    return root, key, secret


def _copied(root: Any, dst: str) -> list[bytes]:
    found = root.list_objects_v2(Bucket=dst).get("Contents", [])
    return [root.get_object(Bucket=dst, Key=o["Key"])["Body"].read() for o in found]


@pytest.mark.parametrize(
    "source",
    [
        "cp-src-{n}/secret#x",  # a URL reader cuts at '#': would copy `secret`
        "cp-src-{n}/secret;x",  # ...and at ';'
        "cp-src-{n}/secret%23x",
        "/cp-src-{n}/secret#",
        "cp-src-{n}/secret?versionId=null",  # a version of the denied object
        "cp-src-{n}/public%3FversionId%3Dnull",  # encoded: part of the key, not a version
        "cp-src-{n}/secret?versionId=null&x=1",
        "cp-src-{n}/secret?x=1",
        "cp-src-{n}/%73ecret",  # `secret`, encoded: still the denied object
        "cp-src-{n}/secret+",
    ],
)
def test_a_copy_source_never_copies_an_object_that_was_not_authorized(server: Endpoint, source: str) -> None:
    n = int(hashlib.sha256(source.encode()).hexdigest(), 16) % 100000
    account = f"6666{n:08d}"
    src, dst = f"cp-src-{n}", f"cp-dst-{n}"
    root, key, secret = _copier(server, account, src, dst)
    reply = send(
        server,
        "PUT",
        f"/{dst}/out",
        key=key,
        secret=secret,
        headers=[("x-amz-copy-source", source.format(n=n))],
    )
    assert SECRET not in b"".join(_copied(root, dst)), (source, reply.status, reply.text)


def test_an_allowed_copy_copies_the_object_s3_names(server: Endpoint) -> None:
    root, key, secret = _copier(server, "666600000001", "cp-ok-src", "cp-ok-dst")
    root.put_object(Bucket="cp-ok-src", Key="a b+c#d;e", Body=b"odd key")
    s3 = server.client("s3", key=key, secret=secret)
    s3.copy_object(Bucket="cp-ok-dst", Key="out", CopySource={"Bucket": "cp-ok-src", "Key": "a b+c#d;e"})
    assert root.get_object(Bucket="cp-ok-dst", Key="out")["Body"].read() == b"odd key"
    reply = send(
        server,
        "PUT",
        "/cp-ok-dst/out2",
        key=key,
        secret=secret,
        headers=[("x-amz-copy-source", "cp-ok-src/a+b%2Bc%23d%3Be")],
    )  # `+` is a space to S3
    assert reply.status == 200, reply.text
    assert root.get_object(Bucket="cp-ok-dst", Key="out2")["Body"].read() == b"odd key"


def test_a_malformed_copy_source_is_s3s_invalid_argument(server: Endpoint) -> None:
    _root, key, secret = _copier(server, "666600000002", "cp-bad-src", "cp-bad-dst")
    for value in ("cp-bad-src", "cp-bad-src/", "cp-bad-src/public?foo=bar"):
        reply = send(
            server,
            "PUT",
            "/cp-bad-dst/out",
            key=key,
            secret=secret,
            headers=[("x-amz-copy-source", value)],
        )
        assert (reply.status, reply.code) == (400, "InvalidArgument"), (value, reply.text)
        assert b"<ArgumentName>x-amz-copy-source</ArgumentName>" in reply.body
    reply = send(
        server,
        "PUT",
        "/cp-bad-dst/out",
        key=key,
        secret=secret,
        headers=[("x-amz-copy-source", "cp-bad-src")],
    )
    assert b"Copy Source must mention the source bucket and key: sourcebucket/sourcekey" in reply.body


def test_two_copy_source_header_lines_are_refused(server: Endpoint) -> None:
    root, key, secret = _copier(server, "666600000003", "cp-two-src", "cp-two-dst")
    reply = send(
        server,
        "PUT",
        "/cp-two-dst/out",
        key=key,
        secret=secret,
        headers=[("x-amz-copy-source", "cp-two-src/public,cp-two-src/secret")],
        split=["x-amz-copy-source"],
    )
    assert reply.status == 400, reply.text
    assert _copied(root, "cp-two-dst") == []


def test_an_old_version_needs_get_object_version(server: Endpoint) -> None:
    account = "666600000004"
    root = server.client("s3", key=account)
    for bucket in ("cpv-src", "cpv-dst"):
        root.create_bucket(Bucket=bucket)
    root.put_bucket_versioning(Bucket="cpv-src", VersioningConfiguration={"Status": "Enabled"})
    old = root.put_object(Bucket="cpv-src", Key="doc", Body=SECRET)["VersionId"]
    root.put_object(Bucket="cpv-src", Key="doc", Body=b"current")
    key, secret = _user(
        server,
        account,
        "current-only",
        [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::cpv-src/*"},
            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::cpv-dst/*"},
        ],
    )
    s3 = server.client("s3", key=key, secret=secret)
    with pytest.raises(ClientError) as err:
        s3.copy_object(Bucket="cpv-dst", Key="out", CopySource={"Bucket": "cpv-src", "Key": "doc", "VersionId": old})
    assert err.value.response["Error"]["Code"] == "AccessDenied"
    for value in (f"cpv-src/doc%3FversionId%3D{old}", f"cpv-src/doc?versionId={old}#"):
        send(
            server,
            "PUT",
            "/cpv-dst/out",
            key=key,
            secret=secret,
            headers=[("x-amz-copy-source", value)],
        )
        assert SECRET not in b"".join(_copied(root, "cpv-dst")), value
    s3.copy_object(Bucket="cpv-dst", Key="cur", CopySource={"Bucket": "cpv-src", "Key": "doc"})
    assert root.get_object(Bucket="cpv-dst", Key="cur")["Body"].read() == b"current"


def _delete_body(xml: bytes) -> list[tuple[str, str]]:
    return [("Content-MD5", base64.b64encode(hashlib.md5(xml).digest()).decode()), ("Content-Type", "application/xml")]


def _deleter(server: Endpoint, account: str, bucket: str) -> tuple[Any, str, str]:
    root = server.client("s3", key=account)
    root.create_bucket(Bucket=bucket)
    for name in ("allowed", "victim"):
        root.put_object(Bucket=bucket, Key=name, Body=b"x")
    key, secret = _user(
        server,
        account,
        "deleter",
        [{"Effect": "Allow", "Action": "s3:DeleteObject", "Resource": f"arn:aws:s3:::{bucket}/allowed"}],
    )
    return root, key, secret


@pytest.mark.parametrize(
    "body",
    [
        '<Delete><Object><x:Key xmlns:x="urn:evil">victim</x:Key></Object></Delete>',
        '<Delete><Object><Key>allowed</Key><x:Key xmlns:x="urn:evil">victim</x:Key></Object></Delete>',
        '<Delete><Object><x:Key xmlns:x="urn:evil">allowed</x:Key><Key>victim</Key></Object></Delete>',
        "<Delete><Object><Key>allowed</Key><Key>victim</Key></Object></Delete>",
        '<Delete xmlns="urn:evil"><Object><Key>victim</Key></Object></Delete>',
        '<!DOCTYPE d [<!ENTITY v "victim">]><Delete><Object><Key>&v;</Key></Object></Delete>',
    ],
)
def test_a_namespaced_or_repeated_key_is_refused_and_nothing_deleted(server: Endpoint, body: str) -> None:
    n = int(hashlib.sha256(body.encode()).hexdigest(), 16) % 100000
    bucket = f"md-ns-{n}"
    root, key, secret = _deleter(server, f"7777{n:08d}", bucket)
    xml = body.encode()
    reply = send(
        server,
        "POST",
        f"/{bucket}",
        query="delete",
        key=key,
        secret=secret,
        headers=_delete_body(xml),
        body=xml,
    )
    assert (reply.status, reply.code) == (400, "MalformedXML"), reply.text
    assert {o["Key"] for o in root.list_objects_v2(Bucket=bucket)["Contents"]} == {"allowed", "victim"}


def test_s3s_own_namespace_is_read_as_s3_reads_it(server: Endpoint) -> None:
    root, key, secret = _deleter(server, "777700000001", "md-s3ns")
    xml = (
        b'<s3:Delete xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/"><s3:Object><s3:Key>allowed</s3:Key>'
        b"</s3:Object><s3:Object><s3:Key>victim</s3:Key></s3:Object></s3:Delete>"
    )
    reply = send(
        server,
        "POST",
        "/md-s3ns",
        query="delete",
        key=key,
        secret=secret,
        headers=_delete_body(xml),
        body=xml,
    )
    assert reply.status == 200 and b"<Code>AccessDenied</Code>" in reply.body, reply.text
    assert {o["Key"] for o in root.list_objects_v2(Bucket="md-s3ns")["Contents"]} == {"victim"}


def test_delete_objects_needs_a_checksum(server: Endpoint) -> None:
    root, key, secret = _deleter(server, "777700000002", "md-md5")
    xml = b"<Delete><Object><Key>allowed</Key></Object></Delete>"
    reply = send(
        server,
        "POST",
        "/md-md5",
        query="delete",
        key=key,
        secret=secret,
        headers=[("Content-Type", "application/xml")],
        body=xml,
    )
    assert (reply.status, reply.code) == (400, "InvalidRequest") and b"Content-MD5" in reply.body
    reply = send(
        server,
        "POST",
        "/md-md5",
        query="delete",
        key=key,
        secret=secret,
        headers=[("Content-Type", "application/xml"), ("Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg==")],
        body=xml,
    )
    assert (reply.status, reply.code) == (400, "BadDigest")
    assert {o["Key"] for o in root.list_objects_v2(Bucket="md-md5")["Contents"]} == {"allowed", "victim"}


def test_more_than_a_thousand_keys_are_malformed(server: Endpoint) -> None:
    root, key, secret = _deleter(server, "777700000003", "md-many")
    with pytest.raises(ClientError) as err:
        server.client("s3", key=key, secret=secret).delete_objects(
            Bucket="md-many", Delete={"Objects": [{"Key": "allowed"}] * 1001}
        )
    assert err.value.response["Error"]["Code"] == "MalformedXML"
    assert {o["Key"] for o in root.list_objects_v2(Bucket="md-many")["Contents"]} == {"allowed", "victim"}


def test_bypassing_governance_retention_needs_its_permission_for_each_key(server: Endpoint) -> None:
    account = "777700000004"
    root = server.client("s3", key=account)
    root.create_bucket(Bucket="md-locked", ObjectLockEnabledForBucket=True)
    until = datetime.now(UTC) + timedelta(days=1)
    version = root.put_object(
        Bucket="md-locked", Key="held", Body=b"x", ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=until
    )["VersionId"]
    key, secret = _user(
        server,
        account,
        "no-bypass",
        [
            {
                "Effect": "Allow",
                "Action": ["s3:DeleteObject", "s3:DeleteObjectVersion"],
                "Resource": "arn:aws:s3:::md-locked/*",
            }
        ],
    )
    out = server.client("s3", key=key, secret=secret).delete_objects(
        Bucket="md-locked", BypassGovernanceRetention=True, Delete={"Objects": [{"Key": "held", "VersionId": version}]}
    )
    assert [(e["Key"], e["Code"]) for e in out["Errors"]] == [("held", "AccessDenied")]
    assert root.get_object(Bucket="md-locked", Key="held", VersionId=version)["Body"].read() == b"x"
