"""An unsigned Lambda call is refused as Lambda refuses it (403 MissingAuthenticationTokenException), not read as
an anonymous S3 request of a bucket named `2015-03-31` (issue 8 §4)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from .conftest import Endpoint


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/2015-03-31/functions/"),
        ("GET", "/2015-03-31/functions/f"),
        ("POST", "/2015-03-31/functions/f/invocations"),
    ],
)
def test_an_unsigned_lambda_call_is_refused_as_lambda_refuses_it(server: Endpoint, method: str, path: str) -> None:
    req = urllib.request.Request(server.url + path, method=method, data=b"{}" if method == "POST" else None)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(req, timeout=10)
    assert refused.value.code == 403
    assert refused.value.headers.get("x-amzn-ErrorType", "").startswith("MissingAuthenticationTokenException")
    body = json.loads(refused.value.read())
    assert "s3:" not in json.dumps(body)
    assert "Authentication Token" in body.get("message", "")
