"""Attack class 4: S3 operations. A sub-resource the backend does not know must never fall back to the bare
path's operation: `GET ?retention` must not return the object's data, `DELETE ?analytics` must not delete
the bucket, `DELETE ?cors&policy` must not delete the policy. Real `lambdaperm serve`, real boto3, and raw
signed requests for what boto3 cannot send."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.security.raw_s3 import send

SECRET = b"TOP SECRET OBJECT DATA"


def _bucket(server: Endpoint, account: str, name: str) -> Any:
    s3 = server.client("s3", key=account)
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="secret.txt", Body=SECRET)
    s3.put_bucket_policy(
        Bucket=name,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:GetObject",
                        "Resource": f"arn:aws:s3:::{name}/none",
                    }
                ],
            }
        ),
    )
    s3.put_bucket_cors(
        Bucket=name, CORSConfiguration={"CORSRules": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}]}
    )
    return s3


def _intact(s3: Any, name: str) -> None:
    """The bucket is still there, with its object, its policy and its CORS configuration."""
    assert name in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert s3.get_object(Bucket=name, Key="secret.txt")["Body"].read() == SECRET
    assert "arn:aws:s3:::" in s3.get_bucket_policy(Bucket=name)["Policy"]
    assert s3.get_bucket_cors(Bucket=name)["CORSRules"]


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[int, str]:
    return exc.value.response["ResponseMetadata"]["HTTPStatusCode"], exc.value.response["Error"]["Code"]


def test_get_object_retention_never_returns_the_object(server: Endpoint) -> None:
    s3 = _bucket(server, "555500000001", "ops-retention")
    with pytest.raises(ClientError) as err:
        s3.get_object_retention(Bucket="ops-retention", Key="secret.txt")
    assert _error(err) == (501, "NotImplemented")
    assert "not implemented by the embedded moto backend" in err.value.response["Error"]["Message"]
    reply = send(server, "GET", "/ops-retention/secret.txt", query="retention", key="555500000001")
    assert (reply.status, reply.code) == (501, "NotImplemented") and SECRET not in reply.body


@pytest.mark.parametrize("query", ["torrent", "annotation", "cors", "defaultObjectAcl"])
def test_other_sub_resources_at_an_object_never_return_it(server: Endpoint, query: str) -> None:
    _bucket(server, "555500000002", "ops-object-subresources")
    reply = send(server, "GET", "/ops-object-subresources/secret.txt", query=query, key="555500000002")
    assert reply.status in (405, 501) and SECRET not in reply.body, (query, reply.status, reply.text)


def test_delete_analytics_never_deletes_the_bucket(server: Endpoint) -> None:
    s3 = _bucket(server, "555500000003", "ops-analytics")
    with pytest.raises(ClientError) as err:
        s3.delete_bucket_analytics_configuration(Bucket="ops-analytics", Id="a1")
    assert _error(err) == (501, "NotImplemented")
    reply = send(server, "DELETE", "/ops-analytics", query="analytics", key="555500000003")
    assert reply.status == 400 and reply.code == "InvalidRequest"  # no `id`: never DeleteBucket
    _intact(s3, "ops-analytics")


@pytest.mark.parametrize(
    "call",
    [
        lambda s3, b: s3.delete_bucket_inventory_configuration(Bucket=b, Id="i"),
        lambda s3, b: s3.delete_bucket_metrics_configuration(Bucket=b, Id="m"),
        lambda s3, b: s3.delete_bucket_intelligent_tiering_configuration(Bucket=b, Id="t"),
        lambda s3, b: s3.delete_bucket_metadata_table_configuration(Bucket=b),
    ],
)
def test_no_unimplemented_delete_falls_back_to_delete_bucket(server: Endpoint, call: Any) -> None:
    s3 = _bucket(server, "555500000004", "ops-deletes")
    with pytest.raises(ClientError) as err:
        call(s3, "ops-deletes")
    assert _error(err) == (501, "NotImplemented")
    _intact(s3, "ops-deletes")


def test_two_sub_resources_at_once_are_refused(server: Endpoint) -> None:
    s3 = _bucket(server, "555500000005", "ops-conflict")
    reply = send(server, "DELETE", "/ops-conflict", query="cors&policy", key="555500000005")
    assert (reply.status, reply.code) == (400, "InvalidArgument")
    assert b"Conflicting query string parameters: cors, policy" in reply.body
    assert b"<ArgumentName>ResourceType</ArgumentName><ArgumentValue>cors</ArgumentValue>" in reply.body
    _intact(s3, "ops-conflict")


@pytest.mark.parametrize(("method", "query"), [("DELETE", "versioning"), ("DELETE", "acl"), ("DELETE", "location")])
def test_a_sub_resource_of_another_method_is_405_not_delete_bucket(server: Endpoint, method: str, query: str) -> None:
    s3 = _bucket(server, "555500000006", "ops-method")
    reply = send(server, method, "/ops-method", query=query, key="555500000006")
    assert (reply.status, reply.code) == (405, "MethodNotAllowed")
    _intact(s3, "ops-method")


def test_an_unimplemented_post_is_not_a_form_upload(server: Endpoint) -> None:
    s3 = _bucket(server, "555500000007", "ops-post")
    with pytest.raises(ClientError) as err:
        s3.create_bucket_metadata_table_configuration(
            Bucket="ops-post",
            MetadataTableConfiguration={
                "S3TablesDestination": {
                    "TableBucketArn": "arn:aws:s3tables:us-east-1:555500000007:bucket/t",
                    "TableName": "t",
                }
            },
        )
    assert _error(err) == (501, "NotImplemented")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="ops-post")["Contents"]] == ["secret.txt"]


def test_upload_part_without_part_number_is_not_put_object(server: Endpoint) -> None:
    s3 = _bucket(server, "555500000008", "ops-part")
    reply = send(
        server,
        "PUT",
        "/ops-part/secret.txt",
        query="uploadId=abc",
        key="555500000008",
        body=b"OVERWRITTEN",
    )
    assert (reply.status, reply.code) == (400, "InvalidRequest")
    _intact(s3, "ops-part")


def test_unknown_query_keys_are_ignored_as_s3_ignores_them(server: Endpoint) -> None:
    _bucket(server, "555500000009", "ops-ignored")
    reply = send(server, "GET", "/ops-ignored/secret.txt", query="x-id=GetObject&v=2", key="555500000009")
    assert reply.status == 200 and reply.body == SECRET
