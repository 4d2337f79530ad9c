"""What an `--upstream` endpoint would read differently from lambdaperm: refused before anything is forwarded.

With `--upstream` the client's signed bytes are forwarded unchanged, so the upstream reads the URL, the
headers and the body by its own rules. The reference upstream is a moto server (werkzeug under Flask),
whose S3 handler reads the request target with Python's `urllib.parse.urlparse` (moto/core/responses.py:
`urlparse(environ["RAW_URI"]).path`) and `x-amz-copy-source` the same way (moto/s3/responses.py:
`unquote(urlparse(copy_source).path)`, a `+` kept as `+`). Those readings differ from S3's (and
lambdaperm's) in:

- `;` in a path: `urlparse` cuts the last segment's "parameters" off (`/b/secret;x` is `/b/secret`). S3 keys
  may hold `;` (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html); boto3 sends it
  percent-encoded (`%3B`), which every reader reads as the key's character.
- `#` anywhere in the request target: a URL parser takes it as the start of a fragment and drops the rest.
- a path starting with `//`: `urlparse` reads the first segment as a host (`//b/k` is the path `/k`).
- in `x-amz-copy-source`: `;` and `#` as above, and `+`, which S3 reads as a space (catalog/s3_copy_source.py)
  and moto as `+`; a leading `//` as above.
- a form content type (`application/x-www-form-urlencoded`, `multipart/form-data`) on an S3 or other REST
  request: the framework consumes the body as a form (PutObject stored an empty object, PutObjectTagging
  and DeleteObjects crashed). S3 reads the body as the object whatever its Content-Type; the only S3 request
  that is a form is the browser POST upload, which lambdaperm does not serve.
- a query/EC2 request (parameters in the query string, no body) declaring another Content-Type than a form
  (`application/x-amz-json-1.0`): moto takes the request for that protocol and fails (500); lambdaperm
  reads the query string. Refused as a query body of another type is (400 `MalformedQueryString`).

Each is refused with S3's error shape (400 `InvalidURI` for the request target, 400 `InvalidArgument` naming
the header otherwise), with a message saying what the upstream could not read the same way. The embedded
backend needs none of this: it receives a canonical re-serialization of the call, never these bytes.
https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList
"""

from __future__ import annotations

from lambdaperm.protocol.content_types import FORM, media_type
from lambdaperm.protocol.errors import ServiceError
from lambdaperm.protocol.http import HttpRequest

FORM_MEDIA_TYPES = frozenset({FORM, "multipart/form-data"})
# characters a URL parser reads as structure in a path or query string (parameters, fragment)
_TARGET_SPECIAL = (";", "#")
# ...and in a copy source, where S3 also reads `+` as a space and the upstream as `+`
_COPY_SOURCE_SPECIAL = (";", "#", "+")


def check(service: str, protocol: str, req: HttpRequest) -> None:
    """Raise the service's error for a request the upstream could read differently from lambdaperm."""
    content_type = req.header("content-type")
    if protocol in ("query", "ec2") and content_type is not None and media_type(content_type) != FORM:
        raise ServiceError(
            "MalformedQueryString",
            f"The Content-Type '{content_type}' is not application/x-www-form-urlencoded; the upstream this "
            "endpoint forwards to would read the request as that type",
            400,
        )
    if protocol not in ("rest-xml", "rest-json"):
        return
    if content_type is not None and media_type(content_type) in FORM_MEDIA_TYPES:
        raise ServiceError(
            "InvalidArgument",
            f"A {media_type(content_type)} body is read as a form by the upstream this endpoint forwards to, "
            "not as the request's body; send it with another Content-Type (S3 stores it as sent)",
            400,
            fields={"ArgumentName": "Content-Type", "ArgumentValue": content_type},
        )
    if service != "s3":
        return
    _check_target(req)
    for source in req.header_values("x-amz-copy-source"):
        _check_copy_source(source)


def _check_target(req: HttpRequest) -> None:
    for char in _TARGET_SPECIAL:
        if char in req.path or char in req.query_string:
            raise ServiceError(
                "InvalidURI",
                f"Couldn't parse the specified URI: a raw '{char}' is read as URL structure by the upstream this "
                f"endpoint forwards to; send it percent-encoded ('%{ord(char):02X}')",
                400,
            )
    if req.path.startswith("//"):
        raise ServiceError(
            "InvalidURI",
            "Couldn't parse the specified URI: a path starting with '//' is read as a host by the upstream this "
            "endpoint forwards to",
            400,
        )


def _check_copy_source(source: str) -> None:
    name = source.split("?", 1)[0]
    for char in _COPY_SOURCE_SPECIAL:
        if char in name:
            raise ServiceError(
                "InvalidArgument",
                f"The x-amz-copy-source holds a raw '{char}', which the upstream this endpoint forwards to reads "
                f"differently from S3; send it percent-encoded ('%{ord(char):02X}')",
                400,
                fields={"ArgumentName": "x-amz-copy-source", "ArgumentValue": source},
            )
    if "#" in source or name.startswith("//"):
        raise ServiceError(
            "InvalidArgument",
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
            400,
            fields={"ArgumentName": "x-amz-copy-source", "ArgumentValue": source},
        )
