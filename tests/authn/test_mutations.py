"""Every botocore-signed request is rejected, with the right kind, once any single thing it signed
changes: a body byte, a signed header's value, the path, a query name or value (or an added parameter),
the method, the date, the signature, the secret, the access key, or the session token; and, for S3, once
an unsigned x-amz-* header is added (hypothesis picks the case and the mutation).

The expected kind follows verify's documented order: readable date and matching scope day, then key,
token, time window, signature, payload."""

from __future__ import annotations

import dataclasses
import string
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from lambdaperm.authn import AuthFailure, Credential, max_skew_for, scope, verify
from lambdaperm.protocol.http import HttpRequest
from tests.authn.botocases import SIGNED_AT, Case, all_cases
from tests.authn.mutate import ALNUM, query_items, rebuilt, replace_at, set_header, set_query

CASES = all_cases()
AUTH_PARAMS = {"x-amz-date", "x-amz-security-token", "x-amz-content-sha256", "date"}

Lookup = Callable[[str], Credential | None]
Mutation = tuple[str, HttpRequest, Lookup, str]


def expected_for_date(case: Case, new: str) -> str:
    """What verify must say when the signed timestamp becomes `new` (all else unchanged)."""
    try:
        moment = datetime.strptime(new, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return "malformed"
    if new[:8] != SIGNED_AT.strftime("%Y%m%d"):
        return "malformed" if case.service == "s3" else "bad_signature"
    if case.presigned and case.service == "s3":
        expires = int(dict(query_items(case.request))["X-Amz-Expires"])
        late = moment + timedelta(seconds=expires) < SIGNED_AT
        return "expired_presign" if moment - SIGNED_AT > timedelta(minutes=15) or late else "bad_signature"
    return "skew" if abs(moment - SIGNED_AT) > max_skew_for(case.service) else "bad_signature"


@st.composite
def mutations(draw: Any) -> Mutation:
    case: Case = draw(st.sampled_from(CASES))
    req, lookup = case.request, case.lookup
    signed = scope(req)
    assert signed is not None
    choices = ["header", "path", "query-add", "method", "date", "signature", "secret", "token", "access-key"]
    if req.body and case.signed_body:
        choices.append("body")
    plain_query = [i for i, (k, _) in enumerate(query_items(req)) if not k.lower().startswith("x-amz-")]
    if plain_query:
        choices.append("query")
    if case.service == "s3":
        choices.append("unsigned-header")
    what = draw(st.sampled_from(choices))
    s3 = case.service == "s3"
    if what == "unsigned-header":
        return (
            what,
            set_header(req, "x-amz-" + draw(st.sampled_from(["acl", "meta-new", "tagging"])), "x"),
            lookup,
            "malformed",
        )
    if what == "body":
        index = draw(st.integers(0, len(req.body) - 1))
        flipped = bytes([req.body[index] ^ draw(st.integers(1, 255))])
        body = req.body[:index] + flipped + req.body[index + 1 :]
        return what, rebuilt(req, body=body), lookup, "payload_mismatch" if s3 else "bad_signature"
    if what == "header":
        names = [n for n in signed.signed_headers if n not in AUTH_PARAMS and req.header(n)]
        name = draw(st.sampled_from(names))
        return what, set_header(req, name, replace_at(draw, req.header(name) or "")), lookup, "bad_signature"
    if what == "path":
        return what, rebuilt(req, path=replace_at(draw, req.path)), lookup, "bad_signature"
    if what == "query":
        items = query_items(req)
        index = draw(st.sampled_from(plain_query))
        name, value = items[index]
        items[index] = (name, replace_at(draw, value)) if value else (replace_at(draw, name), value)
        return what, set_query(req, items), lookup, "bad_signature"
    if what == "query-add":
        return (
            what,
            set_query(req, [*query_items(req), ("extra", draw(st.text(ALNUM, max_size=3)))]),
            lookup,
            "bad_signature",
        )
    if what == "method":
        method = draw(
            st.sampled_from([m for m in ("GET", "PUT", "POST", "DELETE", "HEAD") if m != req.method])
        )
        return what, rebuilt(req, method=method), lookup, "bad_signature"
    if what == "date":
        old = dict(query_items(req))["X-Amz-Date"] if case.presigned else req.header("x-amz-date") or ""
        if draw(st.booleans()):
            index = draw(st.sampled_from([i for i, c in enumerate(old) if c.isdigit()]))
            new = (
                old[:index]
                + draw(st.sampled_from([d for d in string.digits if d != old[index]]))
                + old[index + 1 :]
            )
        else:
            delta = draw(st.one_of(st.integers(-1200, 1200), st.integers(-2 * 86400, 2 * 86400))) or 1
            new = (SIGNED_AT + timedelta(seconds=delta)).strftime("%Y%m%dT%H%M%SZ")
        if case.presigned:
            mutated = set_query(req, [(k, new if k == "X-Amz-Date" else v) for k, v in query_items(req)])
        else:
            mutated = set_header(req, "x-amz-date", new)
        return what, mutated, lookup, expected_for_date(case, new)
    if what == "signature":
        if case.presigned:
            items = query_items(req)
            items = [(k, replace_at(draw, v) if k == "X-Amz-Signature" else v) for k, v in items]
            return what, set_query(req, items), lookup, "bad_signature"
        auth = req.header("authorization") or ""
        sig_at = auth.index("Signature=") + len("Signature=")
        new_sig = auth[:sig_at] + replace_at(draw, auth[sig_at:])
        return what, set_header(req, "authorization", new_sig), lookup, "bad_signature"
    credential = case.credential
    if what == "secret":
        wrong = dataclasses.replace(
            credential, secret_access_key=replace_at(draw, credential.secret_access_key)
        )
        return what, req, lambda akid: wrong if akid == credential.access_key_id else None, "bad_signature"
    if what == "token":
        token = credential.session_token
        if token is not None and draw(st.booleans()):  # the request stops carrying it
            if case.presigned:
                items = [(k, v) for k, v in query_items(req) if k != "X-Amz-Security-Token"]
                return what, set_query(req, items), lookup, "invalid_token"
            return what, set_header(req, "x-amz-security-token", None), lookup, "invalid_token"
        new_token = replace_at(draw, token) if token else draw(st.text(ALNUM, min_size=1, max_size=8))
        changed = dataclasses.replace(credential, session_token=new_token)
        return what, req, lambda akid: changed if akid == credential.access_key_id else None, "invalid_token"
    assert what == "access-key"
    return what, req, lambda akid: None, "unknown_key"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutations())
def test_any_single_change_is_rejected_with_the_right_kind(mutation: Mutation) -> None:
    what, req, lookup, expected = mutation
    event(f"{what} -> {expected}")
    try:
        verify(req, lookup, SIGNED_AT)
    except AuthFailure as failure:
        assert failure.kind == expected, f"{what}: {failure.kind} {failure.message}"
    else:
        raise AssertionError(f"{what}: accepted, expected {expected}")


@given(st.sampled_from(CASES))
def test_the_unchanged_request_still_verifies(case: Case) -> None:
    fresh = rebuilt(case.request, headers=list(case.request.headers))
    assert verify(fresh, case.lookup, SIGNED_AT).access_key_id == case.credential.access_key_id
