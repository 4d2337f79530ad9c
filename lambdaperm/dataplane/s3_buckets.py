"""Which region a bucket lives in, and S3's answer to a request signed for another region.

S3 refuses a SigV4 request whose credential scope names another region than the bucket's: 400
`AuthorizationHeaderMalformed` "The authorization header is malformed; the region '<signed>' is wrong;
expecting '<bucket region>'", with a `<Region>` element and the `x-amz-bucket-region` header (botocore's
S3RegionRedirector reads either and retries in the right region). A presigned URL (query-string
authentication) gets the query form: 400 `AuthorizationQueryParametersError` "Error parsing the X-Amz-Credential
parameter; the region '<signed>' is wrong; expecting '<bucket region>'", with the same `<Region>` element (as
protocol/region.py answers a host of another region). Buckets are global in name, so without this check a
request signed for an allowed region would act on a bucket of another (`aws:RequestedRegion` guardrails
bypassed).
https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
"""

from __future__ import annotations

from lambdaperm.protocol.errors import ServiceError
from lambdaperm.protocol.region import GLOBAL_REGION, known_regions


def bucket_region(bucket: str) -> str | None:
    """The region of an existing bucket, or None when no account has it."""
    from moto.s3.models import s3_backends

    owner = s3_backends.bucket_accounts.get(bucket)
    if owner is None:
        return None
    partition, account = owner
    found = s3_backends[account][partition].buckets.get(bucket)
    return None if found is None else str(found.region_name)


def bucket_owner(bucket: str) -> str | None:
    """The account that owns an existing bucket (bucket names are global), or None."""
    from moto.s3.models import s3_backends

    owner = s3_backends.bucket_accounts.get(bucket)
    return None if owner is None else str(owner[1])


def check_bucket_region(bucket: str, region: str, *, presigned: bool = False) -> None:
    """S3's refusal of a request signed for `region` when the bucket lives in another; `presigned`: the
    signature is in the query string (a presigned URL), not in the Authorization header."""
    actual = bucket_region(bucket)
    if actual is None and region not in known_regions():
        actual = GLOBAL_REGION  # no bucket, and a scope of no region: the global endpoint's (protocol/region.py)
    if actual is None or actual == region:
        return
    wrong = f"the region '{region}' is wrong; expecting '{actual}'"
    if presigned:
        code, message = "AuthorizationQueryParametersError", f"Error parsing the X-Amz-Credential parameter; {wrong}"
    else:
        code, message = "AuthorizationHeaderMalformed", f"The authorization header is malformed; {wrong}"
    raise ServiceError(code, message, 400, fields={"Region": actual}, headers=[("x-amz-bucket-region", actual)])
