"""Which region's Lambda a function URL request was sent to.

AWS: a function URL is `https://<url-id>.lambda-url.<region>.on.aws`, served by the Lambda of the function's region
(https://docs.aws.amazon.com/lambda/latest/dg/urls-configuration.html, "Function URL endpoints"). Another region's
endpoint knows no URL with that id, so a request for it there reaches no function. lambdaperm serves every region on
one port: the region is read from the `Host` header (`<url-id>.lambda-url.<region>.<domain>[:port]`); a request
reaching a URL by lambdaperm's path form (`/_lambdaperm/url/<url-id>`) names no region.
"""

from __future__ import annotations

import re

from lambdaperm.protocol import HttpRequest

_HOST = re.compile(r"[a-z0-9]{32}\.lambda-url\.(?P<region>[a-z0-9-]+)\.[^:]+(?::[0-9]+)?", re.ASCII)


def named_region(req: HttpRequest) -> str | None:
    """The region the request's Host names, or None when the Host is not a function URL host."""
    host = _HOST.fullmatch(req.host.lower())
    return host.group("region") if host else None


def reaches(req: HttpRequest, url_region: str) -> bool:
    """Whether the request was sent to the endpoint of the region the URL was created in (or names none)."""
    named = named_region(req)
    return named is None or named == url_region
