"""A required XML document sent as an empty body is S3's 400 MalformedXML at parse time, never a missing
parameter handed to the backend (PutObjectTagging's Tagging: the backend crashed on it)."""

from __future__ import annotations

import pytest

from lambdaperm.protocol import HttpRequest, ServiceError, identify, parse


def _parse(method: str, path: str, query: str, body: bytes) -> dict[str, object]:
    req = HttpRequest(method, path, query, [("Host", "localhost")], body)
    return parse(identify(req, "s3"), req)


@pytest.mark.parametrize(
    ("method", "path", "query"),
    [("PUT", "/b/k", "tagging"), ("PUT", "/b", "tagging"), ("PUT", "/b", "cors"), ("POST", "/b", "delete")],
)
def test_an_empty_required_document_is_malformed_xml(method: str, path: str, query: str) -> None:
    with pytest.raises(ServiceError) as err:
        _parse(method, path, query, b"")
    assert (err.value.status, err.value.code) == (400, "MalformedXML")


def test_a_document_that_is_given_is_read() -> None:
    body = b"<Tagging><TagSet><Tag><Key>t</Key><Value>v</Value></Tag></TagSet></Tagging>"
    assert _parse("PUT", "/b/k", "tagging", body)["Tagging"] == {"TagSet": [{"Key": "t", "Value": "v"}]}


def test_an_optional_payload_may_be_empty() -> None:
    assert "AccessControlPolicy" not in _parse("PUT", "/b/k", "acl", b"")  # PutObjectAcl: canned ACL headers
    assert _parse("PUT", "/b/k", "", b"")["Key"] == "k"  # PutObject with no body: an empty object
