"""The region of a request is its SigV4 credential scope's, full stop.

A request whose Host names another AWS region (`dynamodb.eu-west-1.amazonaws.com` signed for us-west-2),
or whose User-Agent carries a `region/<r>` token naming another one, is refused the way AWS refuses a
credential scope that does not match the endpoint (spec §12.8): query/EC2 403 `SignatureDoesNotMatch`,
JSON 400 / REST-JSON 403 `InvalidSignatureException`, `Credential should be scoped to a valid region, not
'<signed>'. `; S3 400 `AuthorizationHeaderMalformed` (`AuthorizationQueryParametersError` for a presigned
URL) `… the region '<signed>' is wrong; expecting '<named>'` with a `<Region>` element (spec §12.3).
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-troubleshooting.html

A host names a region when one of its labels is a region name (botocore's partition patterns), alone or
after a dash (`s3-eu-west-1`, `s3-website-eu-west-1`); an S3 virtual host's bucket labels are the bucket's,
not a region. An `amazonaws.com` host naming no region is a global endpoint, which is us-east-1's (not for
S3, whose global endpoint serves every region). AWS reads no region from the User-Agent; lambdaperm refuses
one that disagrees, signed or not, because a backend that reads it would act in that region. S3's SigV2
signatures carry no scope: their region is us-east-1, as authentication takes it.

A credential scope naming no region of the aws partition (`mars-1`, `EU`, `xx`) is refused the same way:
lambdaperm serves one partition, and an endpoint of AWS answers such a scope with the same error — the
region would otherwise become a region of its own for every service.

The credential scope is read here as authentication reads it (the Authorization header's `Credential`, else
the presigned `X-Amz-Credential`), and refused when the header repeats a component, so that both readings
are one.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from botocore.loaders import Loader  # type: ignore[import-untyped]

from lambdaperm.protocol.bad_input import BadInput
from lambdaperm.protocol.dialects import protocol_error
from lambdaperm.protocol.errors import ServiceError
from lambdaperm.protocol.hosts import hostname, virtual_host_label
from lambdaperm.protocol.http import HttpRequest, signed_query_pairs

_SIGV4 = "AWS4-HMAC-SHA256"
GLOBAL_REGION = "us-east-1"  # the global endpoints' region
_USER_AGENT_REGION = re.compile(r"region/([A-Za-z0-9_-]+)")


@cache
def _partitions() -> list[dict[str, Any]]:
    """botocore's endpoint data, per partition (read once)."""
    return list(Loader().load_data("endpoints")["partitions"])


@cache
def _region_patterns() -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(str(partition["regionRegex"]), re.ASCII) for partition in _partitions())


@cache
def known_regions() -> frozenset[str]:
    """The regions of the aws partition (botocore's endpoint data)."""
    return frozenset(next(p for p in _partitions() if p["partition"] == "aws")["regions"])


def is_region_name(text: str) -> bool:
    """`eu-west-1`, `us-gov-west-1`, `cn-north-1` … (botocore's partition region patterns)."""
    return any(pattern.fullmatch(text) for pattern in _region_patterns())


def signed_region(req: HttpRequest) -> tuple[str, bool] | None:
    """(the credential scope's region, presigned?) as authentication reads it; None when the request is
    not signed or its scope cannot be read (authentication refuses it). Raises BadInput("signature") for
    an Authorization header that gives a component twice."""
    authorization = req.header("authorization")
    if authorization is not None:
        algorithm, _, rest = authorization.strip().partition(" ")
        if authorization.startswith("AWS "):
            return GLOBAL_REGION, False
        if algorithm != _SIGV4:
            return None
        components: dict[str, str] = {}
        for component in re.split(r"[,\s]+", rest.strip(), flags=re.ASCII):
            name, sep, value = component.partition("=")
            if not sep:
                continue
            if name in components:
                raise BadInput(
                    "signature", f"The Authorization header gives '{name}' more than once; it may appear once."
                )
            components[name] = value
        return _scope_region(components.get("Credential", "")), False
    query: dict[str, str] = {}
    for name, value in signed_query_pairs(req.query_string):
        query.setdefault(name, value)  # the first, as authentication takes it
    if "X-Amz-Credential" in query:
        return _scope_region(query["X-Amz-Credential"]), True
    if "AWSAccessKeyId" in query:
        return GLOBAL_REGION, True
    return None


def _scope_region(credential: str) -> str:
    parts = credential.split("/")
    return parts[2] if len(parts) == 5 else ""


def host_regions(host: str, service_name: str) -> set[str]:
    """The regions a Host header names (usually none or one)."""
    name = hostname(host)
    if service_name == "s3":
        bucket = virtual_host_label(host)
        if bucket is not None:
            name = name[len(bucket) + 1 :]
    found: set[str] = set()
    for label in name.split("."):
        pieces = label.split("-")
        for start in range(len(pieces)):
            candidate = "-".join(pieces[start:])
            if is_region_name(candidate):
                found.add(candidate)
                break
    if not found and service_name != "s3" and (name == "amazonaws.com" or name.endswith(".amazonaws.com")):
        found.add(GLOBAL_REGION)
    return found


def user_agent_regions(req: HttpRequest) -> set[str]:
    """The regions named by `region/<r>` tokens of the User-Agent header(s)."""
    return {found for value in req.header_values("user-agent") for found in _USER_AGENT_REGION.findall(value)}


def check_region(req: HttpRequest, service_name: str, protocol: str) -> None:
    """Raises ServiceError when the host or the User-Agent names another region than the credential scope
    (BadInput("signature") when the scope itself has two readings)."""
    signed = signed_region(req)
    if signed is None:
        return
    region, presigned = signed
    if region and region not in known_regions() and not (service_name == "s3" and _names_bucket(req)):
        # (a request naming a bucket is refused by the data plane, expecting the bucket's own region)
        expected = sorted(host_regions(req.host, service_name) & known_regions()) or [GLOBAL_REGION]
        raise region_mismatch(service_name, protocol, region, expected[0], presigned=presigned)
    named = sorted((host_regions(req.host, service_name) | user_agent_regions(req)) - {region})
    if named:
        raise region_mismatch(service_name, protocol, region, named[0], presigned=presigned)


def _names_bucket(req: HttpRequest) -> bool:
    """Whether an S3 request names a bucket (virtual host, or the path's first segment)."""
    return virtual_host_label(req.host) is not None or bool(req.path.lstrip("/").split("/", 1)[0])


def region_mismatch(service_name: str, protocol: str, signed: str, named: str, *, presigned: bool) -> ServiceError:
    """AWS's answer to a credential scoped to `signed` sent to an endpoint of `named`."""
    if protocol == "rest-xml":
        wrong = f"the region '{signed}' is wrong; expecting '{named}'"
        if presigned:
            return ServiceError(
                "AuthorizationQueryParametersError",
                f"Error parsing the X-Amz-Credential parameter; {wrong}",
                400,
                fields={"Region": named},
            )
        detail = f"The authorization header is malformed; {wrong}"
        return protocol_error(service_name, protocol, "region", detail=detail, fields={"Region": named})
    detail = f"Credential should be scoped to a valid region, not '{signed}'. "
    return protocol_error(service_name, protocol, "region", detail=detail)
