"""What an `--upstream` moto server (werkzeug, urllib's urlparse) would read differently from lambdaperm is
refused before forwarding: `;`/`#` in the request target, a path starting with `//`, `;`/`#`/`+` in a copy
source, a form content type on a REST request. The end-to-end proof is tests/security/test_parser_differential.py."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from lambdaperm.dataplane.upstream_reading import check
from lambdaperm.protocol import HttpRequest, ServiceError


def _refused(path: str, query: str = "", **headers: str) -> ServiceError:
    req = HttpRequest("PUT", path, query, [("Host", "h"), *((k.replace("_", "-"), v) for k, v in headers.items())])
    with pytest.raises(ServiceError) as err:
        check("s3", "rest-xml", req)
    return err.value


def _accepted(path: str, query: str = "", **headers: str) -> None:
    req = HttpRequest("PUT", path, query, [("Host", "h"), *((k.replace("_", "-"), v) for k, v in headers.items())])
    check("s3", "rest-xml", req)


@pytest.mark.parametrize("path", ["/b/secret;x", "/b/k#frag", "//b/k"])
def test_a_target_urlparse_reads_otherwise_is_invalid_uri(path: str) -> None:
    assert urlparse(path).path != path  # the premise: the upstream's parser reads another path
    assert (_refused(path).status, _refused(path).code) == (400, "InvalidURI")


def test_a_semicolon_in_an_inner_segment_is_refused_too() -> None:
    """urlparse cuts only the last segment's parameters; another URL parser may cut every segment's."""
    assert _refused("/b/dir;p/k").code == "InvalidURI"


def test_a_fragment_mark_in_the_query_is_refused() -> None:
    assert _refused("/b/k", "tagging#x").code == "InvalidURI"


@pytest.mark.parametrize("source", ["b/guarded;x", "b/k#x", "b/foo+bar", "//b/k", "b/k?versionId=v#"])
def test_a_copy_source_urlparse_reads_otherwise_is_refused(source: str) -> None:
    err = _refused("/b/copied", x_amz_copy_source=source)
    assert (err.status, err.code, err.fields["ArgumentName"]) == (400, "InvalidArgument", "x-amz-copy-source")


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "Multipart/Form-Data; boundary=x"])
def test_a_form_content_type_is_refused(content_type: str) -> None:
    err = _refused("/b/k", Content_Type=content_type)
    assert (err.status, err.code, err.fields["ArgumentName"]) == (400, "InvalidArgument", "Content-Type")


def test_encoded_forms_and_ordinary_requests_pass() -> None:
    _accepted("/b/secret%3Bx")
    _accepted("/b/k%23x", "tagging")
    _accepted("/b/copied", x_amz_copy_source="b/foo%2Bbar%3Bx?versionId=abc")
    _accepted("/b/k", Content_Type="application/octet-stream")
    check("sqs", "query", HttpRequest("POST", "/", "", [("Content-Type", "application/x-www-form-urlencoded")]))


@pytest.mark.parametrize("protocol", ["query", "ec2"])
def test_a_query_request_declaring_another_content_type_is_refused(protocol: str) -> None:
    """Parameters in the query string, no body, `Content-Type: application/x-amz-json-1.0`: the upstream
    (moto) read it as JSON and answered 500 (fuzz seed 7 x10, SNS SetTopicAttributes)."""
    req = HttpRequest("POST", "/", "Action=ListTopics", [("Content-Type", "application/x-amz-json-1.0")])
    with pytest.raises(ServiceError) as err:
        check("sns", protocol, req)
    assert (err.value.status, err.value.code) == (400, "MalformedQueryString")
    check("sns", protocol, HttpRequest("POST", "/", "Action=ListTopics", []))  # no Content-Type: the query string
