"""`x-amz-copy-source` read as S3 reads it (split at the first literal `?`, form-decoded key, only
`?versionId=`), authorized on that object, and re-serialized so that any reader reads the same object."""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlparse

import pytest

from lambdaperm.catalog import required_actions
from lambdaperm.catalog.invalid import InvalidRequest
from lambdaperm.catalog.rules.s3 import CopySource, copy_source


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("src/a/b.txt", CopySource("src", "a/b.txt")),
        ("/src/a/b.txt", CopySource("src", "a/b.txt")),  # one leading slash is tolerated
        ("src/k?versionId=3/L4kqtJlcpXro", CopySource("src", "k", "3/L4kqtJlcpXro")),
        ("src/k?versionId=null", CopySource("src", "k", "null")),
        # an encoded `?` belongs to the key (S3: NoSuchKey naming `k?versionId=v`, aws-sdk-cpp#2103)
        ("src/k%3FversionId%3Dv", CopySource("src", "k?versionId=v")),
        ("src/foo++bar.txt", CopySource("src", "foo  bar.txt")),  # `+` is a space (aws-cli#614)
        ("src/foo%2B%2Bbar.txt", CopySource("src", "foo++bar.txt")),
        ("src/a#b;c", CopySource("src", "a#b;c")),  # only `?` is special in the header
        ("src/a%23b%3Bc", CopySource("src", "a#b;c")),
        ("src/%E2%82%AC%20x", CopySource("src", "€ x")),
        ({"Bucket": "src", "Key": "k", "VersionId": "v1"}, CopySource("src", "k", "v1")),
    ],
)
def test_s3_reading(value: object, expected: CopySource) -> None:
    assert copy_source(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "src",
        "src/",
        "/src",
        "",
        "/",
        "//src/k",  # one slash only
        "src/k?x=1",  # nothing but versionId
        "src/k?versionId=v&x=1",
        "src/k?VersionId=v",
        "src/k?versionId=",
        "src/k?versionId",
        "src/k?",
        "src/k?versionId=a+b",  # `+` would be a space to a form decoder and a plus to another reader
        "src/k?versionId=a%2Fb",
        "src/k?versionId=v#frag",
        "s%72c/k",  # a bucket never needs encoding: `b%2Fk` could be read two ways
        "src%2Fk/x",
        "src/%zz",  # a malformed escape
        "src/%FF",  # not UTF-8
    ],
)
def test_malformed_sources_are_s3s_invalid_argument(value: str) -> None:
    with pytest.raises(InvalidRequest) as err:
        copy_source(value)
    assert (err.value.code, err.value.status) == ("InvalidArgument", 400)
    assert err.value.fields == {"ArgumentName": "x-amz-copy-source", "ArgumentValue": value}


def test_no_bucket_or_key_has_s3s_wording() -> None:
    with pytest.raises(InvalidRequest) as err:
        copy_source("just-a-bucket")
    assert err.value.message == "Copy Source must mention the source bucket and key: sourcebucket/sourcekey"


def test_access_point_sources_are_not_served() -> None:
    with pytest.raises(InvalidRequest) as err:
        copy_source("arn%3Aaws%3As3%3Aus-east-1%3A111122223333%3Aaccesspoint/ap/object/k")
    assert (err.value.code, err.value.status) == ("NotImplemented", 501)


@pytest.mark.parametrize(
    "source",
    [
        CopySource("src", "a b+c#d;e?versionId=x&y/z%41~"),
        CopySource("src", "k", "3/L4kqtJl.cp_X-o"),
        CopySource("src", "ü/€"),
    ],
)
def test_the_canonical_header_reads_back_the_same_everywhere(source: CopySource) -> None:
    header = source.header_value()
    assert copy_source(header) == source  # S3's reading
    parsed = urlparse(header)  # a URL reader's (moto's): `#` and `;` would cut the key if left unencoded
    bucket, key = unquote(parsed.path).split("/", 1)
    version = parse_qs(parsed.query).get("versionId", [None])[0]
    assert (bucket, key, version) == (source.bucket, source.key, source.version_id)
    assert not parsed.fragment and not parsed.params


def test_authorized_on_the_object_s3_reads() -> None:
    def needed(value: str) -> list[tuple[str, tuple[str, ...]]]:
        params = {"Bucket": "dst", "Key": "out", "CopySource": value}
        return [
            (n.action, n.resources)
            for n in required_actions("s3", "CopyObject", params, account="1", region="us-east-1")
        ]

    assert needed("src/a#b")[0] == ("s3:GetObject", ("arn:aws:s3:::src/a#b",))
    assert needed("src/k%3FversionId%3Dv")[0] == ("s3:GetObject", ("arn:aws:s3:::src/k?versionId=v",))
    assert needed("src/k?versionId=v")[0] == ("s3:GetObjectVersion", ("arn:aws:s3:::src/k",))
    assert needed("src/a+b")[0] == ("s3:GetObject", ("arn:aws:s3:::src/a b",))
    assert needed("src/k")[1] == ("s3:PutObject", ("arn:aws:s3:::dst/out",))
    part = {"Bucket": "dst", "Key": "out", "CopySource": "src/k?versionId=v", "UploadId": "u", "PartNumber": 1}
    assert required_actions("s3", "UploadPartCopy", part, account="1", region="us-east-1")[0].action == (
        "s3:GetObjectVersion"
    )
    with pytest.raises(InvalidRequest):
        required_actions("s3", "UploadPartCopy", {**part, "CopySource": "src/k?x=1"}, account="1", region="us-east-1")
