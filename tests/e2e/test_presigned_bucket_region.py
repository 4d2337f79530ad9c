"""A presigned S3 URL signed for another region than its bucket's, through a real server.

S3 refuses a request whose credential scope names another region than the bucket's. For query-string
authentication (a presigned URL) the error is 400 `AuthorizationQueryParametersError` "Error parsing the
X-Amz-Credential parameter; the region '<signed>' is wrong; expecting '<bucket region>'" with a `<Region>`
element; `AuthorizationHeaderMalformed` is the header form's (tests/security/test_region_confusion.py)
(https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html; the query form's text as S3 returns it,
e.g. HHS/Head-Start-TTADP#370).
"""

from __future__ import annotations

import urllib.error
import urllib.request
import xml.etree.ElementTree as ET

import boto3
import pytest
from botocore.config import Config

from .conftest import Endpoint


def sigv4_client(server: Endpoint, region: str) -> object:
    return boto3.client(
        "s3",
        endpoint_url=server.url,
        region_name=region,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )


def fetch(url: str) -> tuple[int, dict[str, str], dict[str, str]]:
    """(status, the error's elements, the headers) of a GET on `url` that S3 refuses."""
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url, timeout=10)
    body = refused.value.read()
    root = ET.fromstring(body)
    return refused.value.code, {child.tag: child.text or "" for child in root}, dict(refused.value.headers)


def test_a_presigned_url_for_another_region_names_the_query_parameter(server: Endpoint) -> None:
    s3 = server.client("s3", region="eu-west-1")
    s3.create_bucket(Bucket="presigned-eu", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_object(Bucket="presigned-eu", Key="k", Body=b"private")

    url = sigv4_client(server, "us-east-1").generate_presigned_url(  # type: ignore[attr-defined]
        "get_object", Params={"Bucket": "presigned-eu", "Key": "k"}, ExpiresIn=300
    )
    assert "X-Amz-Credential=" in url and "%2Fus-east-1%2Fs3%2F" in url
    status, error, headers = fetch(url)
    assert status == 400
    assert error["Code"] == "AuthorizationQueryParametersError"
    assert error["Message"] == (
        "Error parsing the X-Amz-Credential parameter; the region 'us-east-1' is wrong; expecting 'eu-west-1'"
    )
    assert error["Region"] == "eu-west-1"
    assert headers.get("x-amz-bucket-region") == "eu-west-1"

    # positive control: a URL presigned for the bucket's region is served
    good = sigv4_client(server, "eu-west-1").generate_presigned_url(  # type: ignore[attr-defined]
        "get_object", Params={"Bucket": "presigned-eu", "Key": "k"}, ExpiresIn=300
    )
    with urllib.request.urlopen(good, timeout=10) as resp:
        assert resp.read() == b"private"
