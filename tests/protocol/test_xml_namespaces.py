"""S3 XML bodies are read exactly as S3 reads them or refused: elements in S3's namespace (default or
prefixed) or in none are read; any other namespace, a repeated member, a scalar with child elements and a
document type declaration are 400 MalformedXML (a DeleteObjects key must never be read two ways)."""

from __future__ import annotations

import pytest

from lambdaperm.protocol import HttpRequest, ServiceError, identify, parse

NS = "http://s3.amazonaws.com/doc/2006-03-01/"


def delete_params(body: str) -> object:
    req = HttpRequest("POST", "/b", "delete", [("Host", "localhost")], body.encode())
    return parse(identify(req, "s3"), req)


@pytest.mark.parametrize(
    "body",
    [
        "<Delete><Object><Key>a</Key></Object></Delete>",
        f'<Delete xmlns="{NS}"><Object><Key>a</Key></Object></Delete>',
        f'<s3:Delete xmlns:s3="{NS}"><s3:Object><s3:Key>a</s3:Key></s3:Object></s3:Delete>',
        # a prefix declared but not used: the element stays in its own (S3's) namespace
        f'<Delete xmlns="{NS}"><Object><Key xmlns:x="urn:evil">a</Key></Object></Delete>',
    ],
)
def test_s3s_namespace_or_none_is_read(body: str) -> None:
    assert delete_params(body) == {"Bucket": "b", "Delete": {"Objects": [{"Key": "a"}]}}


@pytest.mark.parametrize(
    "body",
    [
        '<Delete><Object><x:Key xmlns:x="urn:evil">victim</x:Key></Object></Delete>',
        '<Delete><Object><Key>allowed</Key><x:Key xmlns:x="urn:evil">victim</x:Key></Object></Delete>',
        '<Delete xmlns="urn:evil"><Object><Key>a</Key></Object></Delete>',
        f'<Delete xmlns="{NS}"><Object xmlns="urn:evil"><Key>a</Key></Object></Delete>',
        "<Delete><Object><Key>allowed</Key><Key>victim</Key></Object></Delete>",
        "<Delete><Object><Key>al<i/>lowed</Key></Object></Delete>",
        "<Delete><Quiet>true</Quiet><Quiet>false</Quiet><Object><Key>a</Key></Object></Delete>",
        '<!DOCTYPE d [<!ENTITY v "victim">]><Delete><Object><Key>&v;</Key></Object></Delete>',
    ],
)
def test_anything_else_is_malformed_xml(body: str) -> None:
    with pytest.raises(ServiceError) as err:
        delete_params(body)
    assert (err.value.status, err.value.code) == (400, "MalformedXML")
