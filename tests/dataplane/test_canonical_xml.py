"""A carriage return is written as `&#13;` in a canonical XML body only — never in an object's bytes."""

from __future__ import annotations

import botocore.session

from lambdaperm.dataplane.canonical import canonical_request
from lambdaperm.dataplane.canonical_xml import keep_carriage_returns

S3 = botocore.session.get_session().get_service_model("s3")


def _canonical(operation: str, params: dict[str, object]) -> bytes:
    model = S3.operation_model(operation)
    request = keep_carriage_returns(model, canonical_request(model, params, "123456789012", "us-east-1"))
    body = request.body
    assert isinstance(body, bytes)
    assert request.headers["Content-Length"] == str(len(body))
    return body


def test_an_objects_carriage_returns_are_its_bytes() -> None:
    body = b"line one\r\nline two\r\x1f\x8b\r"
    assert _canonical("PutObject", {"Bucket": "b", "Key": "k", "Body": body}) == body
    assert _canonical("UploadPart", {"Bucket": "b", "Key": "k", "UploadId": "u", "PartNumber": 1, "Body": body}) == body


def test_a_string_payload_is_sent_as_is() -> None:
    policy = '{"Version":"2012-10-17",\r\n"Statement":[]}'
    assert _canonical("PutBucketPolicy", {"Bucket": "b", "Policy": policy}) == policy.encode()


def test_a_carriage_return_in_an_xml_value_is_a_character_reference() -> None:
    body = _canonical(
        "PutObjectTagging", {"Bucket": "b", "Key": "k", "Tagging": {"TagSet": [{"Key": "a\rb", "Value": "v"}]}}
    )
    assert b"a&#13;b" in body and b"\r" not in body
