"""Attack class: S3 DeleteObjects — every key is authorized on its own; refusals are per key, as S3 does.

A 403 for the whole request when one key is denied is a wrong deny (class 11); a key deleted without its
own authorization is a wrong allow.
"""

from __future__ import annotations

import json

from tests.e2e.conftest import Endpoint


def _user(server: Endpoint, account: str, name: str, policy: dict[str, object]) -> tuple[str, str]:
    iam = server.client("iam", key=account)
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def _setup(server: Endpoint, account: str, bucket: str) -> tuple[object, object]:
    root = server.client("s3", key=account)
    root.create_bucket(Bucket=bucket)
    for key in ("public/a", "public/b", "private/c"):
        root.put_object(Bucket=bucket, Key=key, Body=b"x")
    key, secret = _user(server, account, "deleter", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:DeleteObject", "Resource": f"arn:aws:s3:::{bucket}/public/*"},
        {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": f"arn:aws:s3:::{bucket}/private/*"}]})
    return root, server.client("s3", key=key, secret=secret)


def _keys(root: object, bucket: str) -> set[str]:
    return {o["Key"] for o in root.list_objects_v2(Bucket=bucket).get("Contents", [])}  # type: ignore[attr-defined]


def test_one_denied_key_is_reported_per_key_and_the_rest_are_deleted(server: Endpoint) -> None:
    root, s3 = _setup(server, "444400000001", "multi-delete-one")
    out = s3.delete_objects(Bucket="multi-delete-one", Delete={"Objects": [  # type: ignore[attr-defined]
        {"Key": "public/a"}, {"Key": "private/c"}, {"Key": "public/b"}]})
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert sorted(d["Key"] for d in out["Deleted"]) == ["public/a", "public/b"]
    assert [(e["Key"], e["Code"], e["Message"]) for e in out["Errors"]] == [
        ("private/c", "AccessDenied", "Access Denied")]
    assert _keys(root, "multi-delete-one") == {"private/c"}


def test_every_key_denied_is_still_a_200_with_errors_and_nothing_deleted(server: Endpoint) -> None:
    root, s3 = _setup(server, "444400000002", "multi-delete-none")
    out = s3.delete_objects(Bucket="multi-delete-none", Delete={"Objects": [  # type: ignore[attr-defined]
        {"Key": "private/c"}, {"Key": "other/d"}]})
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert "Deleted" not in out
    assert sorted(e["Key"] for e in out["Errors"]) == ["other/d", "private/c"]
    assert _keys(root, "multi-delete-none") == {"public/a", "public/b", "private/c"}


def test_quiet_mode_lists_only_the_refusals(server: Endpoint) -> None:
    root, s3 = _setup(server, "444400000003", "multi-delete-quiet")
    out = s3.delete_objects(Bucket="multi-delete-quiet", Delete={"Quiet": True, "Objects": [  # type: ignore[attr-defined]
        {"Key": "public/a"}, {"Key": "private/c"}]})
    assert "Deleted" not in out
    assert [e["Key"] for e in out["Errors"]] == ["private/c"]
    assert _keys(root, "multi-delete-quiet") == {"public/b", "private/c"}


def test_a_version_needs_delete_object_version(server: Endpoint) -> None:
    account = "444400000004"
    root = server.client("s3", key=account)
    root.create_bucket(Bucket="multi-delete-versions")
    root.put_bucket_versioning(Bucket="multi-delete-versions", VersioningConfiguration={"Status": "Enabled"})
    old = root.put_object(Bucket="multi-delete-versions", Key="public/a", Body=b"v1")["VersionId"]
    root.put_object(Bucket="multi-delete-versions", Key="public/a", Body=b"v2")
    key, secret = _user(server, account, "nover", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::multi-delete-versions/*"}]})
    s3 = server.client("s3", key=key, secret=secret)
    out = s3.delete_objects(Bucket="multi-delete-versions", Delete={"Objects": [
        {"Key": "public/a", "VersionId": old}]})
    assert [(e["Key"], e["VersionId"], e["Code"]) for e in out["Errors"]] == [("public/a", old, "AccessDenied")]
    versions = root.list_object_versions(Bucket="multi-delete-versions")["Versions"]
    assert old in {v["VersionId"] for v in versions}


def test_an_entry_without_a_key_is_malformed_xml(server: Endpoint) -> None:
    import hashlib
    from base64 import b64encode

    from tests.security.test_canonical_execution import signed

    account = "444400000005"
    server.client("s3", key=account).create_bucket(Bucket="multi-delete-malformed")
    body = (b'<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>a</Key></Object>'
            b"<Object></Object></Delete>")
    md5 = b64encode(hashlib.md5(body).digest()).decode()
    status, _, reply = signed(server, "s3", "us-east-1", "POST", "/multi-delete-malformed?delete",
                              {"Content-MD5": md5, "Content-Type": "application/xml"}, body, account, "x")
    assert status == 400
    assert b"<Code>MalformedXML</Code>" in reply
