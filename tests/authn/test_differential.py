"""Differential test against botocore: every request a real botocore client signs (query, JSON, rest-json,
rest-xml path and virtual-host style, presigned URLs, unsigned and aws-chunked payloads, long-term and
session credentials) verifies, and the canonical request we rebuild from the received request is byte for
byte the one botocore signed."""

from __future__ import annotations

import pytest

from lambdaperm.authn import Scope, authenticate, canonical_request_of, scope, verify
from tests.authn.botocases import SIGNED_AT, Case, all_cases

CASES = all_cases()


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_botocore_signed_request_verifies(case: Case) -> None:
    result = verify(case.request, case.lookup, SIGNED_AT)
    assert result == scope(case.request)
    assert result.access_key_id == case.credential.access_key_id
    assert (result.date, result.region, result.service) == (
        SIGNED_AT.strftime("%Y%m%d"),
        "us-east-1",
        case.service,
    )
    assert result.presigned is case.presigned
    assert "host" in result.signed_headers


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_canonical_request_is_botocores(case: Case) -> None:
    assert canonical_request_of(case.request) == case.botocore_canonical


def test_every_protocol_and_mode_is_covered() -> None:
    names = {case.name.split("/")[0] for case in CASES}
    services = {case.service for case in CASES}
    assert {"iam", "sts", "lambda", "dynamodb", "s3", "sqs", "sns", "ec2"} <= services
    assert {
        "s3-get-virtual",
        "s3-put-unsigned",
        "s3-put-trailer",
        "s3-presign-get",
        "sts-presign-get",
    } <= names
    payload_hashes = {case.botocore_canonical.rsplit("\n", 1)[1] for case in CASES}
    assert {"UNSIGNED-PAYLOAD", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"} <= payload_hashes
    assert any(case.credential.session_token for case in CASES)


def test_trailer_payload_is_decoded() -> None:
    case = next(case for case in CASES if case.name.startswith("s3-put-trailer"))
    verified = authenticate(case.request, case.lookup, SIGNED_AT)
    assert verified.payload == b"x" * 70000
    assert [name for name, _ in verified.trailers] == ["x-amz-checksum-crc32"]
    assert verified.credential == case.credential


def test_plain_payload_is_the_body() -> None:
    case = next(case for case in CASES if case.name.startswith("s3-put-path"))
    assert authenticate(case.request, case.lookup, SIGNED_AT).payload == b"hello\x00world"


def test_scope_reads_without_verifying() -> None:
    case = next(case for case in CASES if case.name == "lambda-invoke/session")
    assert scope(case.request) == Scope(
        case.credential.access_key_id,
        "20260314",
        "us-east-1",
        "lambda",
        ("host", "x-amz-date", "x-amz-security-token"),
        False,
    )
