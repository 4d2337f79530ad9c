"""The canonical request: an authorized call `(operation, parameters, account, region)` re-serialized by
botocore's own serializer, on a host lambdaperm chooses, with nothing of the client's bytes, headers or
host. This is the only form in which a call reaches the embedded backend, so what the backend reads is
exactly what lambdaperm parsed and authorized (one reading).

The host names the region of the signed credential scope (`dynamodb.us-west-2.amazonaws.com`; S3 is
addressed path-style on `s3.{region}.amazonaws.com`), the account travels in `x-moto-account-id`, and the
Authorization header carries the same region in its scope: moto reads its region from the URL first, then
from that header, and never sees a User-Agent. A JSON call also names its operation as `?Action=` (moto
would otherwise read the body as a form, see `canonical_request`). The backend's URL router matches the
request's URL against host patterns that can run on into the path; `routing_url` is the URL it routes on.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from botocore.awsrequest import AWSPreparedRequest, create_request_object, prepare_request_dict  # type: ignore[import-untyped]
from botocore.model import OperationModel  # type: ignore[import-untyped]
from botocore.serialize import Serializer, create_serializer  # type: ignore[import-untyped]

# the credential the backend sees: never a real key (the backend does not authenticate; we did)
_ACCESS_KEY = "LAMBDAPERMCANONICAL"


@cache
def _serializer(protocol: str) -> Serializer:
    return create_serializer(protocol, include_validation=False)


def host_for(service: str, region: str) -> str:
    """The host the backend is addressed on: the service's regional AWS endpoint."""
    prefix = "s3" if service == "s3" else service
    return f"{prefix}.{region}.amazonaws.com"


def canonical_request(model: OperationModel, params: dict[str, Any], account: str, region: str) -> AWSPreparedRequest:
    """The HTTP request botocore would send for this call in `region`, addressed to the backend."""
    service = model.service_model.service_name
    signing = model.service_model.signing_name or service
    request_dict = _serializer(model.metadata["protocol"]).serialize_to_request(params, model)
    if model.metadata["protocol"] == "json":
        # moto parses a body as a form when the URL has no query string, and prefers a form `Action` to
        # X-Amz-Target: a JSON string value holding "&Action=DeleteQueue…" would pick the operation. The
        # authorized operation, named in the query string, leaves moto nothing to read from the body.
        request_dict["query_string"] = {"Action": model.name}
    prepare_request_dict(request_dict, endpoint_url=f"https://{host_for(service, region)}")
    headers = request_dict["headers"]
    headers["x-moto-account-id"] = account
    headers["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={_ACCESS_KEY}/20000101/{region}/{signing}/aws4_request, "
        "SignedHeaders=host, Signature=0"
    )
    prepared = create_request_object(request_dict).prepare()
    if prepared.body is None:
        prepared.body = b""  # moto reads an empty body as bytes (its raw_body), as it would from a socket
    return prepared


def routing_url(url: str) -> str:
    """The URL the backend's router matches, without the query string: the path's dots written `%2E`.

    moto picks a response callable by matching `scheme://host/path` against its service's patterns; the
    host parts end in a greedy `(.*)\\.amazonaws.com`, which runs on into the path when the path holds
    `.amazonaws.com`. An object key `public/x.amazonaws.com/` (any UTF-8 string is a key,
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html) then reached S3's *bucket*
    handler: GetObject listed the bucket, DeleteObject deleted it. With no literal dot in the path, the host
    pattern can end only in the host; the path patterns match segments (`[^/]+`, `.+`), which `%2E` leaves
    as they were. The callable itself still gets the canonical URL (moto reads keys from it, unquoted).
    """
    base, _, _ = url.partition("?")
    scheme, sep, rest = base.partition("://")
    host, slash, path = rest.partition("/")
    return f"{scheme}{sep}{host}{slash}{path.replace('.', '%2E')}"
