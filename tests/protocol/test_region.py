"""The region of a request is its credential scope's: a Host or a User-Agent naming another region is
refused with AWS's scope-mismatch error (spec §12.3, §12.8); real clients in any region are read."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.config import Config

from lambdaperm.protocol import HttpRequest, ServiceError, identify, parse, serialize_error
from lambdaperm.protocol.region import host_regions, is_region_name
from tests.protocol.wire import botocore_error, signing_service, to_http_request

JSON10 = "application/x-amz-json-1.0"


def signed(service: str, region: str, *, presigned: bool = False) -> tuple[list[tuple[str, str]], str]:
    credential = f"AKID/20240101/{region}/{service}/aws4_request"
    if presigned:
        return [], f"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={credential.replace('/', '%2F')}"
    return [("Authorization", f"AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host, Signature=ab")], ""


def dynamodb(host: str, region: str = "us-west-2", user_agent: str | None = None) -> HttpRequest:
    auth, _ = signed("dynamodb", region)
    headers = [("Host", host), *auth, ("Content-Type", JSON10), ("X-Amz-Target", "DynamoDB_20120810.DeleteTable")]
    if user_agent is not None:
        headers.append(("User-Agent", user_agent))
    return HttpRequest("POST", "/", "", headers, b'{"TableName": "t"}')


def refused(req: HttpRequest, signing: str) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        parse(identify(req, signing), req)
    return caught.value


def test_a_dynamodb_host_of_another_region_is_refused() -> None:
    req = dynamodb("dynamodb.eu-west-1.amazonaws.com")
    error = refused(req, "dynamodb")
    assert (error.code, error.status) == ("InvalidSignatureException", 400)
    assert error.message == "Credential should be scoped to a valid region, not 'us-west-2'. "
    parsed = botocore_error("json", serialize_error("dynamodb", error, "rid", request=req))
    assert parsed["Error"]["Code"] == "InvalidSignatureException"


@pytest.mark.parametrize(
    "user_agent",
    [
        "Boto3/1.34 region/eu-west-1",
        "aws-sdk-go/1.0 (go1.21; linux; amd64) region/eu-west-1 exec-env/x",
        "xregion/eu-west-1",
    ],
)
def test_a_user_agent_naming_another_region_is_refused(user_agent: str) -> None:
    error = refused(dynamodb("localhost:4566", user_agent=user_agent), "dynamodb")
    assert (error.code, error.status) == ("InvalidSignatureException", 400)


def test_hosts_and_user_agents_that_agree_are_read() -> None:
    for host in ("localhost:4566", "dynamodb.us-west-2.amazonaws.com", "dynamodb-fips.us-west-2.amazonaws.com:443"):
        req = dynamodb(host, user_agent="Boto3/1.34 md/Botocore#1.34 region/us-west-2")
        assert parse(identify(req, "dynamodb"), req) == {"TableName": "t"}


def test_query_and_rest_json_protocols_answer_their_own_mismatch_error() -> None:
    auth, _ = signed("sns", "us-west-2")
    sns = HttpRequest(
        "POST",
        "/",
        "",
        [("Host", "sns.eu-west-1.amazonaws.com"), *auth, ("Content-Type", "application/x-www-form-urlencoded")],
        b"Action=ListTopics&Version=2010-03-31",
    )
    error = refused(sns, "sns")
    assert (error.code, error.status) == ("SignatureDoesNotMatch", 403)
    auth, _ = signed("lambda", "us-west-2")
    lam = HttpRequest("GET", "/2015-03-31/functions/", "", [("Host", "lambda.eu-west-1.amazonaws.com"), *auth])
    assert (refused(lam, "lambda").code, refused(lam, "lambda").status) == ("InvalidSignatureException", 403)


def test_a_global_endpoint_is_us_east_1() -> None:
    auth, _ = signed("sts", "us-west-2")
    body = b"Action=GetCallerIdentity&Version=2011-06-15"
    form = ("Content-Type", "application/x-www-form-urlencoded")
    req = HttpRequest("POST", "/", "", [("Host", "sts.amazonaws.com"), *auth, form], body)
    assert refused(req, "sts").code == "SignatureDoesNotMatch"
    auth, _ = signed("sts", "us-east-1")
    req = HttpRequest("POST", "/", "", [("Host", "sts.amazonaws.com"), *auth, form], body)
    assert identify(req, "sts").name == "GetCallerIdentity"


def test_s3_names_the_region_it_expected() -> None:
    auth, _ = signed("s3", "us-west-2")
    req = HttpRequest("GET", "/secret", "", [("Host", "victim.s3.eu-west-1.amazonaws.com"), *auth])
    error = refused(req, "s3")
    assert (error.code, error.status) == ("AuthorizationHeaderMalformed", 400)
    assert (
        error.message == "The authorization header is malformed; the region 'us-west-2' is wrong; expecting 'eu-west-1'"
    )
    assert error.fields == {"Region": "eu-west-1"}
    parsed = botocore_error("rest-xml", serialize_error("s3", error, "rid", request=req))
    assert parsed["Error"]["Region"] == "eu-west-1"
    _, query = signed("s3", "us-west-2", presigned=True)
    presigned = HttpRequest("GET", "/victim/secret", query, [("Host", "s3-eu-west-1.amazonaws.com")])
    error = refused(presigned, "s3")
    assert (error.code, error.fields) == ("AuthorizationQueryParametersError", {"Region": "eu-west-1"})


def test_an_s3_bucket_name_is_not_a_region() -> None:
    auth, _ = signed("s3", "us-west-2")
    host = "logs.eu-west-1.example.s3.us-west-2.amazonaws.com"
    req = HttpRequest("GET", "/key", "", [("Host", host), *auth])
    assert parse(identify(req, "s3"), req) == {"Bucket": "logs.eu-west-1.example", "Key": "key"}
    assert host_regions(host, "s3") == {"us-west-2"}
    assert host_regions("bucket.s3.amazonaws.com", "s3") == set()


def test_s3_sigv2_is_us_east_1() -> None:
    req = HttpRequest("GET", "/k", "", [("Host", "b.s3-eu-west-1.amazonaws.com"), ("Authorization", "AWS AKID:sig")])
    assert refused(req, "s3").code == "AuthorizationHeaderMalformed"


def test_unsigned_requests_have_no_scope_to_disagree_with() -> None:
    req = HttpRequest("GET", "/k", "", [("Host", "b.s3.eu-west-1.amazonaws.com")])
    assert identify(req, None).name == "GetObject"


def test_region_names_follow_botocores_partitions() -> None:
    assert all(map(is_region_name, ["eu-west-1", "us-gov-west-1", "cn-north-1", "us-isob-east-1", "il-central-1"]))
    assert not any(map(is_region_name, ["my-bucket-1", "localhost", "s3-external-1", "us-east"]))
    assert host_regions("s3-website-ap-southeast-2.amazonaws.com", "s3") == {"ap-southeast-2"}
    assert host_regions("eu-west-1.queue.amazonaws.com", "sqs") == {"eu-west-1"}
    assert host_regions("my-app-1.internal:8080", "dynamodb") == set()


# Real clients, signed by botocore for their region and sent to AWS's own hosts, are read unchanged.
CLIENT_CALLS: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
    ("dynamodb", "get_item", {"TableName": "t", "Key": {"id": {"S": "a"}}}, {}),
    ("sqs", "send_message", {"QueueUrl": "https://sqs.{region}.amazonaws.com/123456789012/q", "MessageBody": "x"}, {}),
    ("sns", "publish", {"TopicArn": "arn:aws:sns:{region}:123456789012:t", "Message": "x"}, {}),
    ("ec2", "describe_security_groups", {"GroupIds": ["sg-1", "sg-2"]}, {}),
    ("logs", "describe_log_groups", {"logGroupNamePrefix": "a"}, {}),
    ("lambda", "get_function", {"FunctionName": "f", "Qualifier": "1"}, {}),
    ("s3", "get_object", {"Bucket": "b", "Key": "a/b"}, {}),
    ("s3", "get_object", {"Bucket": "b", "Key": "a/b"}, {"s3": {"addressing_style": "path"}}),
    ("sts", "get_caller_identity", {}, {}),
]


@pytest.mark.parametrize("region", ["us-west-2", "eu-west-1"])
@pytest.mark.parametrize(("service", "method", "params", "config"), CLIENT_CALLS)
def test_real_clients_in_any_region_are_read(
    region: str, service: str, method: str, params: dict[str, Any], config: dict[str, Any]
) -> None:
    seen: list[HttpRequest] = []

    def send(request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        req = to_http_request(request)
        identify(req, signing_service(req))  # raises on a refusal
        seen.append(req)
        raise _Sent

    client = boto3.client(
        service,
        region_name=region,
        aws_access_key_id="AKID",
        aws_secret_access_key="secret",
        config=Config(retries={"total_max_attempts": 1}, **config),
    )
    client.meta.events.register("before-send", send)
    with pytest.raises(_Sent):
        getattr(client, method)(
            **{k: (v.format(region=region) if isinstance(v, str) else v) for k, v in params.items()}
        )
    assert len(seen) == 1 and region in seen[0].host


def test_a_presigned_url_for_any_region_is_read() -> None:
    client = boto3.client("s3", region_name="eu-west-1", aws_access_key_id="AKID", aws_secret_access_key="secret")
    url = client.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"})
    host, _, rest = url.removeprefix("https://").partition("/")
    path, _, query = rest.partition("?")
    req = HttpRequest("GET", "/" + path, query, [("Host", host)])
    assert parse(identify(req, "s3"), req) == {"Bucket": "b", "Key": "k"}


class _Sent(Exception):
    pass
