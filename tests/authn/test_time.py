"""Clock skew, presigned-URL expiry and credential expiry, at their edges, with AWS's messages."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from lambdaperm.authn import AuthFailure, render, verify
from tests.authn.botocases import LONG_TERM, SESSION, SIGNED_AT, Case, capture

SECOND = timedelta(seconds=1)


def failure(case: Case, now_offset: timedelta, max_skew: timedelta | None = None) -> AuthFailure:
    with pytest.raises(AuthFailure) as caught:
        verify(case.request, case.lookup, SIGNED_AT + now_offset, max_skew=max_skew)
    return caught.value


@pytest.mark.parametrize(
    ("name", "minutes"),
    [("lambda-list", 5), ("sts-caller-identity", 15), ("dynamodb-list", 15), ("iam-list-users", 15)],
)
def test_skew_window_edges(name: str, minutes: int) -> None:
    case = capture(name)
    window = timedelta(minutes=minutes)
    for offset in (window, -window, timedelta(0)):
        verify(case.request, case.lookup, SIGNED_AT + offset)
    late = failure(case, window + SECOND)
    assert late.kind == "skew"
    assert late.message == (
        f"Signature expired: 20260314T150926Z is now earlier than 20260314T150927Z "
        f"({(SIGNED_AT + window + SECOND).strftime('%Y%m%dT%H%M%SZ')} - {minutes} min.)"
    )
    early = failure(case, -window - SECOND)
    assert early.kind == "skew"
    assert early.message == (
        f"Signature not yet current: 20260314T150926Z is still later than 20260314T150925Z "
        f"({(SIGNED_AT - window - SECOND).strftime('%Y%m%dT%H%M%SZ')} + {minutes} min.)"
    )


def test_lambda_skew_message_matches_aws_example_shape() -> None:
    case = capture("lambda-list")
    message = failure(case, timedelta(minutes=6, seconds=29)).message
    # AWS (spec §4.3): "Signature expired: 20171026T165425Z is now earlier than 20171026T165554Z
    # (20171026T170054Z - 5 min.)"
    assert message == (
        "Signature expired: 20260314T150926Z is now earlier than 20260314T151055Z (20260314T151555Z - 5 min.)"
    )
    assert render(failure(case, timedelta(minutes=6)), "rest-json")[:2] == (403, "InvalidSignatureException")


def test_skew_rendering_per_protocol() -> None:
    sts = failure(capture("sts-caller-identity"), timedelta(minutes=16))
    assert render(sts, "query") == (403, "SignatureDoesNotMatch", sts.message)
    assert sts.message.endswith("- 15 min.)")
    ddb = failure(capture("dynamodb-list"), timedelta(minutes=16))
    assert render(ddb, "json") == (400, "InvalidSignatureException", ddb.message)
    s3 = failure(capture("s3-get-path"), timedelta(minutes=16))
    assert render(s3, "rest-xml") == (
        403,
        "RequestTimeTooSkewed",
        "The difference between the request time and the current time is too large.",
    )


def test_max_skew_override() -> None:
    case = capture("lambda-list")
    verify(case.request, case.lookup, SIGNED_AT + timedelta(minutes=9), max_skew=timedelta(minutes=10))
    message = failure(case, timedelta(seconds=31), max_skew=timedelta(seconds=30)).message
    assert message.endswith("- 30 sec.)")


def test_s3_presigned_url_expiry_edges() -> None:
    case = capture("s3-presign-get")  # ExpiresIn=600
    verify(case.request, case.lookup, SIGNED_AT + timedelta(seconds=600))
    verify(case.request, case.lookup, SIGNED_AT - timedelta(minutes=15))
    expired = failure(case, timedelta(seconds=601))
    assert (expired.kind, expired.message) == ("expired_presign", "Request has expired")
    assert render(expired, "rest-xml") == (403, "AccessDenied", "Request has expired")
    early = failure(case, -timedelta(minutes=15) - SECOND)
    assert (early.kind, early.message) == ("expired_presign", "Request is not valid yet")


def test_s3_presigned_url_outlives_the_skew_window() -> None:
    case = capture("s3-presign-put-virtual")  # ExpiresIn=3600: valid long after 15 minutes
    verify(case.request, case.lookup, SIGNED_AT + timedelta(minutes=59))
    assert failure(case, timedelta(hours=1, seconds=1)).kind == "expired_presign"


def test_non_s3_presigned_url_ignores_x_amz_expires_like_sts() -> None:
    case = capture("sts-presign-get")  # X-Amz-Expires=60, yet STS honours 15 minutes (EKS tokens rely on it)
    verify(case.request, case.lookup, SIGNED_AT + timedelta(minutes=14))
    late = failure(case, timedelta(minutes=15, seconds=1))
    assert late.kind == "skew" and late.message.startswith("Signature expired: 20260314T150926Z")


def test_expired_credential() -> None:
    case = capture("lambda-invoke", SESSION)
    expiring = dataclasses.replace(SESSION, expiration=SIGNED_AT + timedelta(seconds=30))
    lookup = {SESSION.access_key_id: expiring}.get
    verify(case.request, lookup, SIGNED_AT + timedelta(seconds=30))
    with pytest.raises(AuthFailure) as caught:
        verify(case.request, lookup, SIGNED_AT + timedelta(seconds=31))
    assert caught.value.kind == "expired_token"
    assert render(caught.value, "rest-json") == (
        403,
        "ExpiredTokenException",
        "The security token included in the request is expired",
    )
    assert render(caught.value, "query")[:2] == (403, "ExpiredToken")
    assert render(caught.value, "rest-xml") == (400, "ExpiredToken", "The provided token has expired.")


def test_token_checks_precede_expiry_and_skew() -> None:
    case = capture("sts-caller-identity", LONG_TERM)
    with_token = dataclasses.replace(LONG_TERM, session_token="t", expiration=SIGNED_AT - timedelta(days=1))
    with pytest.raises(AuthFailure) as caught:
        verify(case.request, {LONG_TERM.access_key_id: with_token}.get, SIGNED_AT + timedelta(days=1))
    assert caught.value.kind == "invalid_token"
    assert render(caught.value, "query") == (
        403,
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
    )


def test_naive_now_is_utc() -> None:
    case = capture("lambda-list")
    verify(case.request, case.lookup, SIGNED_AT.replace(tzinfo=None))
