"""moto's own bucket-policy check is switched off: lambdaperm decides every S3 call, bucket policy included.

moto's S3 evaluates a bucket's policy itself on object requests (`FakeBucket.get_permission`, a partial
evaluator that reads a Deny as denying whatever its conditions) and answers 403 "Forbidden". That is a second
reader of the request with its own rules: it can only deny, but every such deny is a wrong deny, with a body
that is not S3's. lambdaperm has already decided the call with the engine (identity, bucket policy, ACL-less
ownership), so moto's check always answers "neither allowed nor denied" here.
"""

from __future__ import annotations

from typing import Any


def leave_bucket_policies_to_lambdaperm() -> None:
    from moto.iam.access_control import PermissionResult
    from moto.s3.models import FakeBucket

    if getattr(FakeBucket.get_permission, "_lambdaperm", False):
        return

    def get_permission(self: Any, action: str, resource: str) -> Any:
        return PermissionResult.NEUTRAL

    get_permission._lambdaperm = True  # type: ignore[attr-defined]
    FakeBucket.get_permission = get_permission  # type: ignore[method-assign]
