"""S3 Signature Version 2, which botocore still writes for S3 presigned URLs in us-east-1 unless told
`signature_version='s3v4'` (and for header signing with `signature_version='s3'`): botocore-signed
requests verify, botocore's string to sign is among ours, and single changes are rejected."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from email.utils import formatdate

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lambdaperm.authn import AuthFailure, render, scope, verify
from lambdaperm.authn.parse import V2Parts, parse
from lambdaperm.authn.sigv2 import strings_to_sign
from tests.authn.botocases import SIGNED_AT, Case, capture, v2_cases
from tests.authn.mutate import query_items, rebuilt, replace_at, set_header, set_query

CASES = v2_cases()


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_botocore_sigv2_request_verifies(case: Case) -> None:
    result = verify(case.request, case.lookup, SIGNED_AT)
    assert result == scope(case.request)
    assert (result.access_key_id, result.service, result.presigned) == (
        case.credential.access_key_id,
        "s3",
        case.presigned,
    )
    parts = parse(case.request)
    assert isinstance(parts, V2Parts)
    assert case.botocore_canonical in strings_to_sign(case.request, parts)


def rejected(
    req: object, case: Case, now_offset: timedelta = timedelta(0), lookup: object = None
) -> AuthFailure:
    with pytest.raises(AuthFailure) as caught:
        verify(req, lookup or case.lookup, SIGNED_AT + now_offset)  # type: ignore[arg-type]
    return caught.value


@given(st.sampled_from(CASES), st.data())
def test_single_changes_are_rejected(case: Case, data: st.DataObject) -> None:
    req = case.request
    draw = data.draw
    what = draw(st.sampled_from(["path", "method", "signature", "secret", "token", "subresource", "header"]))
    expected = "bad_signature"
    lookup = case.lookup
    if what == "path":
        req = rebuilt(req, path=replace_at(draw, req.path))
    elif what == "method":
        req = rebuilt(req, method="DELETE")
    elif what == "signature":
        if case.presigned:
            items = [(k, replace_at(draw, v) if k == "Signature" else v) for k, v in query_items(req)]
            req = set_query(req, items)
        else:
            auth = req.header("authorization") or ""
            req = set_header(req, "authorization", auth[:-6] + replace_at(draw, auth[-6:]))
    elif what == "secret":
        wrong = dataclasses.replace(case.credential, secret_access_key=replace_at(draw, "secret"))
        lookup = {case.credential.access_key_id: wrong}.get
    elif what == "token":
        changed = dataclasses.replace(case.credential, session_token=replace_at(draw, "token"))
        lookup = {case.credential.access_key_id: changed}.get
        expected = "invalid_token"
    elif what == "subresource":
        req = set_query(
            req, [*query_items(req), ("versionId", draw(st.text("abc123", min_size=1, max_size=3)))]
        )
    else:
        req = set_header(req, "x-amz-meta-added", "x")
    assert rejected(req, case, lookup=lookup).kind == expected


def test_presigned_expiry_edges() -> None:
    case = capture("s3v2-presign-get")  # ExpiresIn=600
    verify(case.request, case.lookup, SIGNED_AT + timedelta(seconds=600))
    late = rejected(case.request, case, timedelta(seconds=601))
    assert (late.kind, render(late, "rest-xml")) == (
        "expired_presign",
        (403, "AccessDenied", "Request has expired"),
    )
    items = query_items(case.request)
    moved = set_query(case.request, [(k, str(int(v) + 1) if k == "Expires" else v) for k, v in items])
    assert rejected(moved, case).kind == "bad_signature"


def test_header_date_skew_and_signed_headers() -> None:
    case = capture("s3v2-put")
    verify(case.request, case.lookup, SIGNED_AT + timedelta(minutes=15))
    skewed = rejected(case.request, case, timedelta(minutes=15, seconds=1))
    assert render(skewed, "rest-xml")[:2] == (403, "RequestTimeTooSkewed")
    later = formatdate((SIGNED_AT + timedelta(seconds=1)).timestamp(), usegmt=True)
    assert rejected(set_header(case.request, "date", later), case).kind == "bad_signature"
    content_type = set_header(case.request, "content-type", "text/html")
    assert rejected(content_type, case).kind == "bad_signature"
    # SigV2 does not sign the body (without Content-MD5) or query parameters that are not sub-resources.
    verify(rebuilt(case.request, body=b"other"), case.lookup, SIGNED_AT)
    verify(set_query(case.request, [("x-id", "PutObject")]), case.lookup, SIGNED_AT)


def test_unknown_key_and_malformed() -> None:
    case = capture("s3v2-put")
    unknown = rejected(case.request, case, lookup=lambda akid: None)
    assert render(unknown, "rest-xml")[:2] == (403, "InvalidAccessKeyId")
    bad = set_header(case.request, "authorization", "AWS nocolon")
    assert render(rejected(bad, case), "rest-xml")[:2] == (400, "InvalidArgument")
    presign = capture("s3v2-presign-get")
    no_expires = set_query(
        presign.request, [(k, v) for k, v in query_items(presign.request) if k != "Expires"]
    )
    assert render(rejected(no_expires, presign), "rest-xml") == (
        403,
        "AccessDenied",
        "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters",
    )
