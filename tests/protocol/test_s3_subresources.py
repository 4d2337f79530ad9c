"""S3 sub-resources are read per botocore's S3 model: a request naming one is routed only to the operation
that claims it; two at once, or one no operation at that path and method claims, is refused with S3's error
(never routed to the bare path's GetObject, PutObject, ListObjects or DeleteBucket)."""

from __future__ import annotations

import pytest

from lambdaperm.protocol import HttpRequest, ServiceError, identify
from lambdaperm.protocol.route_rest import selectors


def op(method: str, path: str, query: str = "", **headers: str) -> str:
    pairs = [("Host", "localhost"), *((k.replace("_", "-"), v) for k, v in headers.items())]
    return identify(HttpRequest(method, path, query, pairs), "s3").name


def refused(method: str, path: str, query: str = "", **headers: str) -> ServiceError:
    with pytest.raises(ServiceError) as err:
        op(method, path, query, **headers)
    return err.value


def test_the_selectors_are_the_models_markers() -> None:
    found = selectors("s3")
    assert {"acl", "retention", "analytics", "cors", "policy", "delete", "uploads", "legal-hold"} <= found
    assert {"uploadId", "defaultObjectAcl"} <= found
    assert "list-type" not in found and "versionId" not in found and "partNumber" not in found
    assert selectors("lambda") == frozenset()


@pytest.mark.parametrize(
    ("method", "path", "query", "expected"),
    [
        ("GET", "/b/k", "retention", "GetObjectRetention"),
        ("PUT", "/b/k", "retention", "PutObjectRetention"),
        ("DELETE", "/b", "analytics&id=a", "DeleteBucketAnalyticsConfiguration"),
        ("DELETE", "/b", "cors", "DeleteBucketCors"),
        ("GET", "/b", "versioning=1", "GetBucketVersioning"),  # S3 ignores a selector's value
        ("GET", "/b", "Versioning", "ListObjects"),  # ...and matches case-sensitively
        ("GET", "/b/k", "x-id=GetObject&v=2", "GetObject"),  # other keys are ignored, as S3 ignores them
        ("GET", "/b/k", "uploadId=u", "ListParts"),
        ("PUT", "/b/k", "partNumber=1&uploadId=u", "UploadPart"),
        ("POST", "/b/k", "select&select-type=2", "SelectObjectContent"),
    ],
)
def test_a_selector_routes_to_its_operation(method: str, path: str, query: str, expected: str) -> None:
    assert op(method, path, query) == expected


@pytest.mark.parametrize(
    ("method", "path", "query", "named"),
    [
        ("DELETE", "/b", "cors&policy", "cors, policy"),
        ("DELETE", "/b", "policy&cors", "cors, policy"),
        ("GET", "/b/k", "acl&tagging", "acl, tagging"),
        ("POST", "/b/k", "uploads&uploadId=u", "uploadId, uploads"),
        ("GET", "/b", "versioning&acl", "acl, versioning"),
        # a key selecting another operation by its value beside a sub-resource: readers differ on which wins
        ("GET", "/b", "list-type=2&versions", "list-type, versions"),
        ("GET", "/b", "list-type=2&replication", "list-type, replication"),
        ("GET", "/b", "list-type=1&ownershipControls", "list-type, ownershipControls"),
        ("POST", "/b/k", "restore&select-type=2", "restore, select-type"),
    ],
)
def test_two_selectors_conflict(method: str, path: str, query: str, named: str) -> None:
    err = refused(method, path, query)
    assert (err.status, err.code, err.message) == (
        400,
        "InvalidArgument",
        f"Conflicting query string parameters: {named}",
    )
    assert err.fields == {"ArgumentName": "ResourceType", "ArgumentValue": named.split(", ")[0]}


@pytest.mark.parametrize(
    ("method", "path", "query", "resource"),
    [
        ("DELETE", "/b", "versioning", "VERSIONING"),  # would be DeleteBucket
        ("HEAD", "/b", "acl", "ACL"),  # would be HeadBucket
        ("DELETE", "/b/k", "retention", "RETENTION"),  # would be DeleteObject
        ("GET", "/b/k", "uploads", "UPLOADS"),  # would be GetObject
    ],
)
def test_a_selector_of_another_method_is_405(method: str, path: str, query: str, resource: str) -> None:
    err = refused(method, path, query)
    assert (err.status, err.code) == (405, "MethodNotAllowed")
    assert err.fields == {"Method": method, "ResourceType": resource}


@pytest.mark.parametrize(
    ("method", "path", "query"),
    [
        ("GET", "/b/k", "cors"),  # a bucket sub-resource at an object's path: would be GetObject
        ("GET", "/b", "defaultObjectAcl"),  # S3 knows it, botocore has no operation: would be ListObjects
        ("PUT", "/b/k", "annotation"),  # would be PutObject
        ("DELETE", "/b", "storageClass"),  # would be DeleteBucket
    ],
)
def test_a_selector_nothing_serves_here_is_501(method: str, path: str, query: str) -> None:
    err = refused(method, path, query)
    assert (err.status, err.code) == (501, "NotImplemented")
    assert f"'?{query}'" in err.message


def test_missing_required_members_are_refused() -> None:
    err = refused("PUT", "/b/k", "uploadId=u")  # UploadPart without partNumber: moto would PutObject
    assert (err.status, err.code) == (400, "InvalidRequest") and "partNumber" in err.message
    err = refused("DELETE", "/b", "analytics")  # no id: moto would DeleteBucket
    assert (err.status, err.code) == (400, "InvalidRequest") and "id" in err.message
