"""What the Host header says: the S3 bucket of a virtual-hosted request, the service of an AWS host.

S3 virtual-hosted style puts the bucket in the host (`bucket.s3.us-east-1.amazonaws.com`, legacy
`bucket.s3-us-west-2.amazonaws.com`, `bucket.s3.amazonaws.com`); local endpoints use
`bucket.localhost:4566` or `bucket.s3.<anything>`.
https://docs.aws.amazon.com/AmazonS3/latest/userguide/VirtualHosting.html
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from lambdaperm.protocol.models import service_for_endpoint_prefix

_S3_VIRTUAL = re.compile(r"(?P<bucket>.+)\.s3(?:[.-].*)?")  # the last `.s3` label: bucket names may hold `.s3-`
_LOCALHOST_VIRTUAL = re.compile(r"(?P<bucket>.+)\.localhost")
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}", re.ASCII)

# service → the input member a virtual host's first labels stand for
VIRTUAL_HOST_MEMBERS: Mapping[str, str] = {"s3": "Bucket"}


def hostname(host: str) -> str:
    """The host without its port, lowercased (`[::1]:4566` → `[::1]`)."""
    host = host.strip().lower()
    if host.startswith("["):
        end = host.find("]")
        return host[: end + 1] if end >= 0 else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def virtual_host_label(host: str) -> str | None:
    """The S3 bucket named by a virtual-hosted-style host, or None for path style."""
    name = hostname(host)
    if not name or _IPV4.fullmatch(name) or name.startswith("["):
        return None
    match = _S3_VIRTUAL.fullmatch(name) or _LOCALHOST_VIRTUAL.fullmatch(name)
    if match is None:
        return None
    bucket = match.group("bucket")
    return bucket or None


def service_from_host(host: str) -> str | None:
    """The service an AWS-style host names (`sts.us-east-1.amazonaws.com` → `sts`); S3 hosts → `s3`."""
    name = hostname(host)
    if not name:
        return None
    first = name.split(".", 1)[0]
    if first == "s3" or first.startswith("s3-") or _S3_VIRTUAL.fullmatch(name):
        return "s3"
    return service_for_endpoint_prefix(first)
