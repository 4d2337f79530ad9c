"""IAM ARNs with their paths: the catalog builds user/role ARNs from names, AWS authorizes the ARN that
carries the entity's path (`arn:aws:iam::ACCOUNT:role/path/name`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from lambdaperm.catalog import RequiredAction

if TYPE_CHECKING:
    from .server import Server

_IAM_ENTITY = re.compile(r"^arn:aws:iam::(\d{12}):(role|user)/([^/]+)$")


def with_iam_paths(server: Server, need: RequiredAction) -> RequiredAction:
    """The catalog builds IAM user/role ARNs from names; AWS authorizes the ARN with the entity's path."""
    fixed = []
    changed = False
    for arn in need.resources:
        m = _IAM_ENTITY.match(arn)
        real = None
        if m:
            lookup = server.policies.role_arn if m.group(2) == "role" else server.policies.user_arn
            real = lookup(m.group(1), m.group(3))
        fixed.append(real or arn)
        changed = changed or (real is not None and real != arn)
    if not changed:
        return need
    return RequiredAction(need.action, tuple(fixed), need.context)
