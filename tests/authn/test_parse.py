"""Reading the authentication parameters (`scope`), malformed input with AWS's texts, and the
per-protocol rendering table."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambdaperm.authn import (
    KINDS,
    PROTOCOLS,
    RENDERING,
    AuthFailure,
    Credential,
    Scope,
    render,
    scope,
    verify,
)
from lambdaperm.protocol.http import HttpRequest
from tests.authn.botocases import SIGNED_AT, capture

AUTH = (
    "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/iam/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=abc"
)


def request(
    authorization: str | None = AUTH, query: str = "", date: str | None = "20260101T000000Z"
) -> HttpRequest:
    headers = [("Host", "localhost:4566")]
    if authorization is not None:
        headers.append(("Authorization", authorization))
    if date is not None:
        headers.append(("X-Amz-Date", date))
    return HttpRequest("POST", "/", query, headers, b"Action=ListUsers")


def malformed(req: HttpRequest) -> AuthFailure:
    with pytest.raises(AuthFailure) as caught:
        scope(req)
    assert caught.value.kind == "malformed"
    return caught.value


def test_scope_of_header() -> None:
    assert scope(request()) == Scope("AKID", "20260101", "us-east-1", "iam", ("host", "x-amz-date"), False)
    # Components separated by commas only, or by white space only, read the same.
    assert scope(request(AUTH.replace(", ", ","))) == scope(request(AUTH.replace(", ", " ")))


def test_scope_of_presigned_query() -> None:
    query = (
        "Action=GetCallerIdentity&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIA%2F20260101%2F"
        "eu-west-1%2Fsts%2Faws4_request&X-Amz-Date=20260101T000000Z&X-Amz-Expires=60"
        "&X-Amz-SignedHeaders=host&X-Amz-Signature=abc&X-Amz-Security-Token=t%2B"
    )
    assert scope(request(None, query)) == Scope("ASIA", "20260101", "eu-west-1", "sts", ("host",), True)


def test_no_authentication_is_none_and_missing() -> None:
    assert scope(request(None)) is None
    with pytest.raises(AuthFailure) as caught:
        verify(request(None), lambda akid: None, SIGNED_AT)
    assert caught.value.kind == "missing"
    assert render(caught.value, "query") == (
        403,
        "MissingAuthenticationToken",
        "Request is missing Authentication Token",
    )
    assert render(caught.value, "json")[:2] == (400, "MissingAuthenticationTokenException")
    assert render(caught.value, "rest-json")[:2] == (403, "MissingAuthenticationTokenException")
    assert render(caught.value, "rest-xml") == (403, "AccessDenied", "Access Denied")


def test_missing_components_use_aws_text() -> None:
    caught = malformed(request("Bearer eyJhbGciOi", date=None))
    assert caught.message == (
        "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' "
        "parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires "
        "existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=Bearer eyJhbGciOi"
    )
    assert render(caught, "query")[:2] == (400, "IncompleteSignature")
    only_credential = malformed(request("AWS4-HMAC-SHA256 SignedHeaders=host, Signature=abc"))
    assert only_credential.message.startswith(
        "Authorization header requires 'Credential' parameter. Authorization="
    )
    assert render(only_credential, "rest-xml") == (
        400,
        "AuthorizationHeaderMalformed",
        "The authorization header is malformed; the authorization header requires three components: "
        "Credential, SignedHeaders, and Signature.",
    )


def test_bad_credential_and_algorithm() -> None:
    caught = malformed(request(AUTH.replace("AKID/20260101/us-east-1/iam/aws4_request", "AKID/20260101/iam")))
    assert caught.message == (
        "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, "
        "got 'AKID/20260101/iam'"
    )
    assert "the Credential is mal-formed" in render(caught, "rest-xml")[2]
    sigv4a = malformed(request(AUTH.replace("AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256")))
    assert sigv4a.message == "Unsupported AWS 'algorithm': 'AWS4-ECDSA-P256-SHA256'"


def test_presigned_query_problems() -> None:
    missing = malformed(request(None, "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc"))
    assert "AWS query-string parameters must include 'X-Amz-Credential'." in missing.message
    assert render(missing, "rest-xml")[:2] == (400, "AuthorizationQueryParametersError")
    both = malformed(request(AUTH, "X-Amz-Signature=abc"))
    assert render(both, "rest-xml")[1] == "InvalidArgument"
    assert both.message.startswith("Only one auth mechanism allowed")
    sigv2 = scope(request(None, "AWSAccessKeyId=AKID&Signature=abc&Expires=86400"))
    assert sigv2 == Scope("AKID", "19700102", "us-east-1", "s3", (), True)


@pytest.mark.parametrize(
    ("expires", "text"),
    [
        ("soon", "X-Amz-Expires should be a number"),
        ("-1", "X-Amz-Expires must be non-negative"),
        (
            "604801",
            "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be "
            "less than 604800 seconds",
        ),
    ],
)
def test_presigned_expires_limits(expires: str, text: str) -> None:
    case = capture("s3-presign-get")
    case.request.query_string = case.request.query_string.replace(
        "X-Amz-Expires=600", f"X-Amz-Expires={expires}"
    )
    with pytest.raises(AuthFailure) as caught:
        verify(case.request, case.lookup, SIGNED_AT)
    assert caught.value.kind == "malformed"
    assert render(caught.value, "rest-xml") == (400, "AuthorizationQueryParametersError", text)


def test_date_problems() -> None:
    case = capture("iam-list-users")
    case.request.headers = [
        (k, "2026-03-14T15:09:26Z" if k == "X-Amz-Date" else v) for k, v in case.request.headers
    ]
    with pytest.raises(AuthFailure) as caught:
        verify(case.request, case.lookup, SIGNED_AT)
    assert caught.value.message == (
        "Date must be in ISO-8601 'basic format'. Got '2026-03-14T15:09:26Z'. See http://en.wikipedia.org/wiki/ISO_8601"
    )
    case.request.headers = [
        (k, "20260315T000000Z" if k == "X-Amz-Date" else v) for k, v in case.request.headers
    ]
    case.request._lower = {}
    with pytest.raises(AuthFailure) as caught:
        verify(case.request, case.lookup, SIGNED_AT)
    assert (caught.value.kind, caught.value.message) == (
        "bad_signature",
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
        "'20260314' != '20260315', from '20260315T000000Z'.",
    )


def test_wrong_terminator() -> None:
    case = capture("iam-list-users")
    case.request.headers = [(k, v.replace("aws4_request", "aws5_request")) for k, v in case.request.headers]
    with pytest.raises(AuthFailure) as caught:
        verify(case.request, case.lookup, SIGNED_AT)
    assert caught.value.message == (
        "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'."
    )


def test_host_must_be_signed() -> None:
    case = capture("lambda-list")
    case.request.headers = [
        (k, v.replace("SignedHeaders=host;", "SignedHeaders=")) for k, v in case.request.headers
    ]
    with pytest.raises(AuthFailure) as caught:
        verify(case.request, case.lookup, SIGNED_AT)
    assert caught.value.message == "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."


@pytest.mark.parametrize("name", ["s3-presign-put-virtual", "s3-get-path"])
def test_s3_refuses_unsigned_amz_headers(name: str) -> None:
    case = capture(name)
    case.request.headers.append(("x-amz-acl", "public-read"))
    with pytest.raises(AuthFailure) as caught:
        verify(case.request, case.lookup, SIGNED_AT)
    assert render(caught.value, "rest-xml") == (
        403,
        "AccessDenied",
        "There were headers present in the request which were not signed",
    )


def test_unsigned_payload_is_s3_only() -> None:
    case = capture("lambda-list")
    case.request.headers.append(("x-amz-content-sha256", "UNSIGNED-PAYLOAD"))
    with pytest.raises(AuthFailure) as caught:
        verify(case.request, case.lookup, SIGNED_AT)
    assert caught.value.kind == "malformed"


def test_rendering_table_is_complete() -> None:
    assert {"query", "ec2", "json", "rest-json", "rest-xml"} <= set(PROTOCOLS)
    for kind in KINDS:
        for protocol in PROTOCOLS:
            status, code, _ = RENDERING[(kind, protocol)]
            assert status in (400, 401, 403) and code
    unknown = AuthFailure("unknown_key", "The security token included in the request is invalid.")
    assert render(unknown, "query") == (
        403,
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
    )
    assert render(unknown, "rest-json")[:2] == (403, "UnrecognizedClientException")
    assert render(unknown, "json")[:2] == (400, "UnrecognizedClientException")
    assert render(unknown, "rest-xml") == (
        403,
        "InvalidAccessKeyId",
        "The AWS Access Key Id you provided does not exist in our records.",
    )
    assert render(unknown, "unknown-protocol") == render(unknown, "query")
    bad = AuthFailure("bad_signature", "x")
    assert render(bad, "rest-xml")[1:] == (
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. Check your key and "
        "signing method.",
    )
    with pytest.raises(ValueError):
        AuthFailure("nope", "x")


_TOKENS = st.sampled_from(
    [
        "AWS4-HMAC-SHA256",
        "AWS4-X",
        "AWS",
        " ",
        ",",
        "=",
        "/",
        ":",
        ";",
        "Credential=",
        "SignedHeaders=",
        "Signature=",
        "AKID/20260314/us-east-1/s3/aws4_request",
        "AKID/20260314/us-east-1/lambda/aws4_request",
        "host;x-amz-date",
        "abc",
        "99991231T235959Z",
        "20260314T150926Z",
        "X-Amz-Expires=",
        "X-Amz-Algorithm=AWS4-HMAC-SHA256",
        "X-Amz-Credential=",
        "X-Amz-Signature=",
        "X-Amz-Date=",
        "X-Amz-SignedHeaders=host",
        "AWSAccessKeyId=",
        "Expires=",
        "&",
        "%",
        "%zz",
        "604800",
        "-1",
        "9999999999",
    ]
)
_GARBAGE = st.lists(_TOKENS | st.text(max_size=4), max_size=12).map("".join)


@settings(max_examples=300, deadline=None)
@given(
    authorization=st.none() | _GARBAGE,
    query=_GARBAGE,
    date=st.none()
    | _GARBAGE
    | st.sampled_from(["Sat, 14 Mar 2026 15:09:26 GMT", "Fri, 31 Dec 9999 23:59:59 GMT"]),
    sha=st.none() | st.sampled_from(["UNSIGNED-PAYLOAD", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "e3b0", "x"]),
    body=st.binary(max_size=40),
)
def test_garbage_only_ever_raises_auth_failure(
    authorization: str | None, query: str, date: str | None, sha: str | None, body: bytes
) -> None:
    headers = [("Host", "localhost")]
    for name, value in (("Authorization", authorization), ("X-Amz-Date", date), ("Date", date),
                        ("x-amz-content-sha256", sha)):  # fmt: skip
        if value is not None:
            headers.append((name, value))
    req = HttpRequest("PUT", "/b/k", query, headers, body)
    secret = Credential("AKID", "secret", expiration=SIGNED_AT)
    try:
        scope(req)
        verify(req, lambda akid: secret if akid == "AKID" else None, SIGNED_AT)
    except AuthFailure as failure:
        assert failure.kind in KINDS
        assert all(isinstance(part, int | str) for part in render(failure, "rest-xml"))
